using System.Globalization;
using Nanoq.Autograd;
using Nanoq.Detection.Integer;
using Nanoq.Quant;
using Nanoq.Quant.Integer;

namespace Nanoq.Detection;

/// <summary>
/// RetinaNet run with integer arithmetic only (DESIGN.md §5), as deployed: the integer graph
/// (<see cref="IntRetinaNetGraph"/>, namespace <c>Nanoq.Detection.Integer</c>: bytes between layers, int32 inside, no
/// float anywhere) between two float edges, which are the only float operations of inference —
/// <list type="number">
/// <item><see cref="ImageQuantizer"/>: the normalized image → codes, once, with the fake-quant model's input quantizer;</item>
/// <item><see cref="HeadDequantizer"/>: class-logit and box-delta codes → reals, then sigmoid, decoding, top-k and
/// class-wise NMS exactly as the float detector (<see cref="RetinaNetDecoding"/>).</item>
/// </list>
/// Made by <see cref="IntegerConverter.Convert"/> from a quantized <see cref="RetinaNet"/>, saved and loaded as an NQIM
/// file (<see cref="IntModelFile"/>: versioned, checksummed, 4-bit codes two per byte). <see cref="Detect"/> has
/// <see cref="RetinaNet.Detect"/>'s signature, so evaluation treats both alike. One inference at a time per instance
/// (the graph reuses its buffers).
/// </summary>
public sealed class IntegerRetinaNet
{
    /// <summary>Metadata key prefix of the real grids: "grid.&lt;layer key&gt;" = "Δ z k".</summary>
    private const string GridPrefix = "grid.";

    private readonly Dictionary<(int, int), Tensor> _anchorCache = new();
    private readonly Dictionary<string, QParams> _grids;
    private byte[]? _inputCodes;
    private IntHeadCodes? _detectHeads; // Detect consumes the head codes at once, so their arrays are reused

    /// <param name="grids">(Δ, z, k) of every layer's output by <see cref="IIntUnit.Key"/>, and of "input".</param>
    public IntegerRetinaNet(RetinaNetConfig config, IntRetinaNetGraph graph, QParams input, QParams logits, QParams deltas,
                            IReadOnlyDictionary<string, QParams> grids)
    {
        config.Validate();
        Check(config, graph, "IntegerRetinaNet");
        if (input.ZeroPoint != graph.InputZeroPoint || input.Bits != graph.InputBits)
            throw new ArgumentException($"IntegerRetinaNet: input grid {input} does not match the graph's (z = {graph.InputZeroPoint}, {graph.InputBits} bits).");
        if (logits.ZeroPoint != graph.Head.ClsLogits[0].OutputZeroPoint || deltas.ZeroPoint != graph.Head.BboxPred[0].OutputZeroPoint)
            throw new ArgumentException("IntegerRetinaNet: the head grids do not match the predictors' zero points.");
        Config = config;
        Graph = graph;
        Input = new ImageQuantizer(input);
        Logits = new HeadDequantizer(logits);
        Deltas = new HeadDequantizer(deltas);
        _grids = new Dictionary<string, QParams>(grids, StringComparer.Ordinal);
        Anchors = AnchorGenerator.RetinaNet(config.AnchorSize);
        Coder = new BoxCoder(1f, 1f, 1f, 1f);
    }

    public RetinaNetConfig Config { get; }
    public IntRetinaNetGraph Graph { get; }
    public ImageQuantizer Input { get; }
    public HeadDequantizer Logits { get; }
    public HeadDequantizer Deltas { get; }
    public AnchorGenerator Anchors { get; }
    public BoxCoder Coder { get; }

    /// <summary>The real grid (Δ, z, k) of each layer's output codes by key, and of "input" (for audits and people).</summary>
    public IReadOnlyDictionary<string, QParams> Grids => _grids;

    /// <summary>Every distinct conv and add layer in forward order.</summary>
    public IEnumerable<IIntUnit> Layers => Graph.Layers;

    // ---- inference ----------------------------------------------------------------------------------------------

    /// <summary>images [N, 3, H, W] (normalized, as for <see cref="RetinaNet.Forward"/>) → head codes.</summary>
    public IntHeadCodes ForwardCodes(Tensor images, IIntForwardHook? hook = null)
    {
        var codes = Input.Quantize(images, _inputCodes);
        _inputCodes = codes.Data;
        return Graph.Forward(codes, hook);
    }

    /// <summary>The dequantized heads, shaped as the float model's (logits [N, A, K], deltas [N, A, 4]).</summary>
    public RetinaNetOutput Forward(Tensor images) => Dequantize(ForwardCodes(images));

    public RetinaNetOutput Dequantize(IntHeadCodes h) =>
        new(new Var(Logits.Dequantize(h.Logits, h.Batch, h.Anchors, h.Classes)), new Var(Deltas.Dequantize(h.Deltas, h.Batch, h.Anchors, 4)),
            h.GridSizes, h.ImageHeight, h.ImageWidth);

    /// <summary>Detections per image (<see cref="RetinaNet.Detect"/>'s contract): integer forward, then the float postprocessing.</summary>
    public IReadOnlyList<Detections> Detect(Tensor images, IReadOnlyList<(int Height, int Width)> imageSizes)
    {
        var codes = Input.Quantize(images, _inputCodes);
        _inputCodes = codes.Data;
        _detectHeads = Graph.Forward(codes, null, _detectHeads);
        return Postprocess(_detectHeads, imageSizes);
    }

    /// <summary>Dequantize the head codes, then σ, threshold, top-k, decoding, clipping and class-wise NMS.</summary>
    public IReadOnlyList<Detections> Postprocess(IntHeadCodes h, IReadOnlyList<(int Height, int Width)> imageSizes)
    {
        using var logits = Logits.Dequantize(h.Logits, h.Batch, h.Anchors, h.Classes);
        using var deltas = Deltas.Dequantize(h.Deltas, h.Batch, h.Anchors, 4);
        return RetinaNetDecoding.Detect(Config, Anchors, Coder, AnchorsFor(h.ImageHeight, h.ImageWidth, h.GridSizes).Span, logits.Span,
                                        deltas.Span, h.Batch, h.Anchors, h.Classes, h.GridSizes, imageSizes);
    }

    /// <summary>Anchors [A, 4] for a padded input size (cached per size).</summary>
    public Tensor AnchorsFor(int imageHeight, int imageWidth, (int Height, int Width)[] grids)
    {
        if (!_anchorCache.TryGetValue((imageHeight, imageWidth), out var a))
            _anchorCache[(imageHeight, imageWidth)] = a = Anchors.Generate(imageHeight, imageWidth, grids);
        return a;
    }

    // ---- per-layer codes and audits -------------------------------------------------------------------------------

    /// <summary>
    /// The output codes of every layer (copies), by tap name, one entry per call (the head's layers: one per level),
    /// optionally only for layers <paramref name="which"/> selects.
    /// </summary>
    public IReadOnlyDictionary<string, IReadOnlyList<CodeTensor>> LayerCodes(Tensor images, Func<IIntUnit, bool>? which = null)
    {
        var hook = new CaptureHook(which ?? (_ => true));
        ForwardCodes(images, hook);
        return hook.Outputs.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<CodeTensor>)kv.Value, StringComparer.Ordinal);
    }

    /// <summary>
    /// The integer computation of output [n, c, y, x] of the layer named <paramref name="name"/> (a tap name) in its
    /// <paramref name="occurrence"/>-th call (the pyramid level − 3 for the head), on these images.
    /// </summary>
    public IntegerLayerAudit Audit(Tensor images, string name, int occurrence, int n, int c, int y, int x)
    {
        var hook = new CaptureHook(l => l.Name == name, keepInputs: true);
        ForwardCodes(images, hook);
        if (!hook.Calls.TryGetValue(name, out var calls) || occurrence < 0 || occurrence >= calls.Count)
            throw new ArgumentException($"IntegerRetinaNet.Audit: layer '{name}' made {(calls?.Count ?? 0)} call(s); there is no call {occurrence}.");
        var (layer, inputs) = calls[occurrence];
        var grid = _grids[layer.Key];
        return layer switch
        {
            IntConvUnit conv => new IntegerLayerAudit(name, occurrence, layer, n, c, y, x, conv.Audit(inputs[0], n, c, y, x), null, grid),
            IntAddUnit add => new IntegerLayerAudit(name, occurrence, layer, n, c, y, x, null,
                                                     add.Audit(inputs[0], inputs[1], inputs[0].IndexOf(n, c, y, x)), grid),
            _ => throw new InvalidOperationException($"IntegerRetinaNet.Audit: unexpected layer {layer.GetType().Name}."),
        };
    }

    private sealed class CaptureHook(Func<IIntUnit, bool> which, bool keepInputs = false) : IIntForwardHook
    {
        public Dictionary<string, List<CodeTensor>> Outputs { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, List<(IIntUnit Layer, CodeTensor[] Inputs)>> Calls { get; } = new(StringComparer.Ordinal);

        public CodeTensor? AfterLayer(IIntUnit layer, int occurrence, IReadOnlyList<CodeTensor> inputs, CodeTensor output)
        {
            if (!which(layer)) return null;
            if (!Outputs.TryGetValue(layer.Name, out var list)) Outputs[layer.Name] = list = new List<CodeTensor>();
            list.Add(output.Clone());
            if (keepInputs)
            {
                if (!Calls.TryGetValue(layer.Name, out var calls)) Calls[layer.Name] = calls = new();
                calls.Add((layer, inputs.Select(t => t.Clone()).ToArray()));
            }
            return null;
        }
    }

    // ---- files ----------------------------------------------------------------------------------------------------

    /// <summary>Writes the NQIM file (atomically).</summary>
    public void Save(string path) => IntModelFile.Write(path, ToModel());

    /// <summary>
    /// Reads an NQIM file written by <see cref="Save"/>. A damaged file fails in the container's checks
    /// (<see cref="IntModelFormatException"/> naming the file and the problem); a file of another architecture than
    /// <paramref name="config"/> fails with an <see cref="ArgumentException"/> saying which setting differs.
    /// </summary>
    public static IntegerRetinaNet Load(string path, RetinaNetConfig config) => FromModel(IntModelFile.Read(path), config, path);

    /// <summary>The integer model (graph, tensors) plus the architecture and every layer's real grid as metadata.</summary>
    public IntModel ToModel()
    {
        var inv = CultureInfo.InvariantCulture;
        var meta = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["producer"] = "Nanoq IntegerConverter",
            ["model.backbone"] = Config.Backbone,
            ["model.backbone_width"] = Config.BackboneWidth.ToString("R", inv),
            ["model.num_classes"] = Config.NumClasses.ToString(inv),
            ["model.fpn_channels"] = Config.FpnChannels.ToString(inv),
            ["model.head_convs"] = Config.HeadConvs.ToString(inv),
            ["model.anchor_size"] = Config.AnchorSize.ToString(inv),
        };
        foreach (var (key, q) in _grids)
            meta[GridPrefix + key] = string.Create(inv, $"{q.Scale:R} {q.ZeroPoint} {q.Bits}");
        return IntRetinaNetFormat.ToModel(Graph, meta);
    }

    public static IntegerRetinaNet FromModel(IntModel model, RetinaNetConfig config, string source)
    {
        var graph = IntRetinaNetFormat.FromModel(model, source);
        var inv = CultureInfo.InvariantCulture;
        string Meta(string key) => model.Metadata.TryGetValue(key, out var v) ? v
            : throw new IntModelFormatException(source, $"the metadata has no \"{key}\".");
        var stored = new (string Key, string Value, string Expected)[]
        {
            ("model.backbone", Meta("model.backbone"), config.Backbone),
            ("model.num_classes", Meta("model.num_classes"), config.NumClasses.ToString(inv)),
            ("model.fpn_channels", Meta("model.fpn_channels"), config.FpnChannels.ToString(inv)),
            ("model.head_convs", Meta("model.head_convs"), config.HeadConvs.ToString(inv)),
            ("model.anchor_size", Meta("model.anchor_size"), config.AnchorSize.ToString(inv)),
        };
        foreach (var (key, value, expected) in stored)
            if (value != expected)
                throw new ArgumentException($"{source}: the integer model has {key} = {value}, but the configuration says {expected}.");
        var grids = new Dictionary<string, QParams>(StringComparer.Ordinal);
        foreach (var (key, value) in model.Metadata)
        {
            if (!key.StartsWith(GridPrefix, StringComparison.Ordinal)) continue;
            var parts = value.Split(' ');
            if (parts.Length != 3 || !float.TryParse(parts[0], NumberStyles.Float, inv, out float scale)
                || !int.TryParse(parts[1], NumberStyles.Integer, inv, out int z) || !int.TryParse(parts[2], NumberStyles.Integer, inv, out int bits))
                throw new IntModelFormatException(source, $"metadata \"{key}\" = \"{value}\" is not \"Δ z k\".");
            try
            {
                grids[key[GridPrefix.Length..]] = new QParams(scale, z, bits);
            }
            catch (ArgumentException e)
            {
                throw new IntModelFormatException(source, $"metadata \"{key}\": {e.Message}", e);
            }
        }
        QParams Grid(string key) => grids.TryGetValue(key, out var q) ? q : throw new IntModelFormatException(source, $"no real grid for '{key}' in the metadata.");
        foreach (var l in graph.Layers) Grid(l.Key);
        try
        {
            return new IntegerRetinaNet(config, graph, Grid("input"), Grid(graph.Head.ClsLogits[0].Key), Grid(graph.Head.BboxPred[0].Key), grids);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"{source}: {e.Message}", e);
        }
    }

    /// <summary>The configuration must describe the graph's heads and pyramid (postprocessing reads its anchors and classes).</summary>
    private static void Check(RetinaNetConfig config, IntRetinaNetGraph graph, string where)
    {
        var head = graph.Head;
        int anchors = AnchorGenerator.RetinaNet(config.AnchorSize).NumAnchorsPerLocation(0);
        if (head.NumClasses != config.NumClasses || head.NumAnchors != anchors || graph.Fpn.Channels != config.FpnChannels
            || head.ClsConvs.Count != config.HeadConvs || head.NumLevels != 5)
            throw new ArgumentException(
                $"{where}: the graph ({head.NumClasses} classes, {head.NumAnchors} anchors, FPN {graph.Fpn.Channels}, {head.ClsConvs.Count} head convs, " +
                $"{head.NumLevels} levels) does not match the configuration ({config.NumClasses} classes, {anchors} anchors, FPN {config.FpnChannels}, {config.HeadConvs} head convs).");
    }
}
