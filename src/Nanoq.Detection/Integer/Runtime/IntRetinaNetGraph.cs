namespace Nanoq.Detection.Integer;

/// <summary>
/// The integer-only RetinaNet: image codes → backbone → FPN → heads → head codes, with byte codes between layers and
/// int32 only inside a layer (DESIGN.md §5). Each module family has its counterpart here, built by walking the
/// quantized float model (<see cref="IntegerConverter"/>) or read back from a model file
/// (<see cref="IntRetinaNetFormat"/>). The float steps — quantizing the image once, dequantizing the heads for sigmoid,
/// decoding and NMS — are outside, in <see cref="IntegerRetinaNet"/>.
/// One forward at a time (the arena is reused by the next).
/// </summary>
public sealed class IntRetinaNetGraph
{
    private readonly CodeArena _arena = new();

    public IntRetinaNetGraph(int inputZeroPoint, int inputBits, IIntBackbone backbone, IntFeaturePyramid fpn, IntRetinaNetHead head)
    {
        if (inputBits is < 1 or > 8 || (uint)inputZeroPoint > (uint)((1 << inputBits) - 1))
            throw new ArgumentException($"IntRetinaNetGraph: input zero point {inputZeroPoint} is off the {inputBits}-bit grid.");
        InputZeroPoint = inputZeroPoint;
        InputBits = inputBits;
        Backbone = backbone;
        Fpn = fpn;
        Head = head;
        var byKey = new Dictionary<string, IIntUnit>(StringComparer.Ordinal);
        foreach (var l in Layers)
            if (!byKey.TryAdd(l.Key, l)) throw new ArgumentException($"IntRetinaNetGraph: two layers have the key '{l.Key}'.");
        LayersByKey = byKey;
    }

    /// <summary>z of the image codes (the float model's "input" quantizer).</summary>
    public int InputZeroPoint { get; }
    public int InputBits { get; }
    public IIntBackbone Backbone { get; }
    public IntFeaturePyramid Fpn { get; }
    public IntRetinaNetHead Head { get; }

    /// <summary>Every distinct conv and add layer, in forward order (the head's shared convs once, though they run per level).</summary>
    public IEnumerable<IIntUnit> Layers => Backbone.Layers.Concat(Fpn.Layers).Concat(Head.Layers);

    /// <summary>Layers by <see cref="IIntUnit.Key"/> (the float tap name; <c>name@P3</c> for per-level variants).</summary>
    public IReadOnlyDictionary<string, IIntUnit> LayersByKey { get; }

    /// <summary>The layer with key <paramref name="key"/>; throws naming it.</summary>
    public IIntUnit Layer(string key) =>
        LayersByKey.TryGetValue(key, out var l) ? l : throw new KeyNotFoundException($"IntRetinaNetGraph: no layer '{key}'.");

    /// <summary>
    /// Image codes [N, 3, H, W] → head codes; <paramref name="hook"/> sees (and may replace) every layer's output. The
    /// head codes are fresh arrays, or <paramref name="reuse"/>'s when their sizes fit (which then holds the new codes).
    /// </summary>
    public IntHeadCodes Forward(CodeTensor images, IIntForwardHook? hook = null, IntHeadCodes? reuse = null)
    {
        if (images.ZeroPoint != InputZeroPoint || images.Bits > InputBits)
            throw new ArgumentException($"IntRetinaNetGraph: image {images} is not on the input grid (z = {InputZeroPoint}, {InputBits} bits).");
        var ctx = new IntForwardContext(_arena, hook);
        try
        {
            var levels = Fpn.Forward(Backbone.Stages(images, ctx), ctx);
            return Head.Forward(levels, images.Height, images.Width, ctx, reuse);
        }
        finally
        {
            _arena.Reset();
        }
    }
}
