using Nanoq.Autograd;
using Nanoq.Nn;
using Nanoq.Nn.Init;
using Nanoq.Nn.Layers;
using Nanoq.Nn.Taps;

namespace Nanoq.Detection;

/// <summary>
/// Feature pyramid network (Lin et al. 2017): P_f–P5 from C_f–C5 by 1×1 lateral convs, a top-down path of nearest
/// upsampling + add, and 3×3 output convs; then the extra levels of <see cref="FpnLastLevel"/> (DESIGN.md §6). The
/// first level f is 6 − (number of input channels): RetinaNet passes C3–C5 (P3–P5, then P6, P7 by convs), Faster R-CNN
/// C2–C5 (P2–P5, then P6 by max pooling P5, torchvision's <c>LastLevelMaxPool</c>). All levels have
/// <see cref="Channels"/> channels.
/// <code>
///   inner5 = lateral5(C5)                    P5 = out5(inner5)
///   inner4 = lateral4(C4) + up(inner5)       P4 = out4(inner4)
///   inner3 = lateral3(C3) + up(inner4)       P3 = out3(inner3)
///   (inner2 = lateral2(C2) + up(inner3)      P2 = out2(inner2))              with C2
///   P6 = p6(C5), P7 = p7(relu(P6))           (P6P7; P6P7FromP5: P6 = p6(P5))   or   P6 = maxpool_{k1,s2}(P5)   (MaxPool)
/// </code>
/// Every conv is a <see cref="ConvUnit"/> and every add an <see cref="AddUnit"/>, so quantization reaches each
/// lateral, top-down add and output. Upsampling and max pooling act on codes, so they need no quantizer of their own.
/// Names: lateral{l}, output{l}, topdown{l} (l the level), p6, p7. Initialization as torchvision's FPN: Kaiming uniform
/// with a = 1, zero bias.
/// </summary>
public sealed class FeaturePyramid : Module
{
    private readonly ConvUnit[] _lateral, _output;
    private readonly AddUnit[] _topDown;
    private readonly ConvUnit? _p6, _p7;

    /// <param name="inChannels">channels of C_f … C5 (three for C3–C5, four for C2–C5).</param>
    /// <param name="channels">the pyramid's channel count.</param>
    /// <param name="rng">weight initialization.</param>
    /// <param name="lastLevel">what is added above P5.</param>
    public FeaturePyramid(int[] inChannels, int channels, Rng rng, FpnLastLevel lastLevel = FpnLastLevel.P6P7)
    {
        if (inChannels.Length is < 2 or > 4) throw new ArgumentException($"FeaturePyramid: {inChannels.Length} inputs; expected 2 to 4 (C_f … C5).");
        Channels = channels;
        LastLevel = lastLevel;
        int n = inChannels.Length;
        FirstLevel = 6 - n;
        _lateral = new ConvUnit[n];
        _output = new ConvUnit[n];
        _topDown = new AddUnit[n - 1];
        for (int i = 0; i < n; i++)
        {
            int level = i + FirstLevel;
            var lat = Child($"lateral{level}", new Conv2d(inChannels[i], channels, 1, rng: rng));
            var outConv = Child($"output{level}", new Conv2d(channels, channels, 3, 1, 1, rng: rng));
            _lateral[i] = Tap($"lateral{level}", new ConvUnit(lat, null, ActivationKind.None));
            _output[i] = Tap($"output{level}", new ConvUnit(outConv, null, ActivationKind.None));
        }
        for (int i = 0; i < n - 1; i++) _topDown[i] = Tap($"topdown{i + FirstLevel}", new AddUnit(ActivationKind.None));
        if (HasP7)
        {
            var p6 = Child("p6", new Conv2d(lastLevel == FpnLastLevel.P6P7FromP5 ? channels : inChannels[^1], channels, 3, 2, 1, rng: rng));
            var p7 = Child("p7", new Conv2d(channels, channels, 3, 2, 1, rng: rng));
            _p6 = Tap("p6", new ConvUnit(p6, null, ActivationKind.None));
            _p7 = Tap("p7", new ConvUnit(p7, null, ActivationKind.None));
        }
        foreach (var (_, m) in NamedModules())
            if (m is Conv2d c)
            {
                Initializers.KaimingUniform(c.Weight.Value, rng, gain: 1f);
                c.Bias?.Value.Clear();
            }
    }

    public int Channels { get; }

    /// <summary>The finest level f (3 for C3–C5 inputs, 2 for C2–C5).</summary>
    public int FirstLevel { get; }

    public FpnLastLevel LastLevel { get; }

    /// <summary>Whether P6 and P7 are convs (<see cref="FpnLastLevel.P6P7"/>, <see cref="FpnLastLevel.P6P7FromP5"/>).</summary>
    public bool HasP7 => LastLevel != FpnLastLevel.MaxPool;

    /// <summary>The number of levels <see cref="Forward"/> returns: P_f–P5 plus two (P6P7) or one (MaxPool).</summary>
    public int NumLevels => _lateral.Length + (HasP7 ? 2 : 1);

    /// <summary>lateral_f … lateral5 (read-only, for conversion to the integer runtime).</summary>
    public IReadOnlyList<ConvUnit> Lateral => _lateral;

    /// <summary>output_f … output5.</summary>
    public IReadOnlyList<ConvUnit> Output => _output;

    /// <summary>topdown_f … topdown4: lateral + upsampled coarser level, operands in that order.</summary>
    public IReadOnlyList<AddUnit> TopDown => _topDown;

    /// <summary>The P6 conv (P6P7 and P6P7FromP5).</summary>
    public ConvUnit P6 => _p6 ?? throw new InvalidOperationException("FeaturePyramid: P6 is max pooling here, not a conv.");

    /// <summary>The P7 conv (P6P7 and P6P7FromP5).</summary>
    public ConvUnit P7 => _p7 ?? throw new InvalidOperationException("FeaturePyramid: there is no P7 here.");

    /// <summary>[C2, C3, C4, C5] (levels below f unused) → [P_f, …, P5, P6(, P7)].</summary>
    public Var[] Forward(Var[] c)
    {
        int n = _lateral.Length, f = FirstLevel;
        if (c.Length != 4) throw new ArgumentException($"FeaturePyramid: {c.Length} backbone stages; expected [C2, C3, C4, C5].");
        var inner = new Var[n];
        inner[n - 1] = _lateral[n - 1].Forward(c[3]);
        for (int i = n - 2; i >= 0; i--)
        {
            var ci = c[i + f - 2];
            inner[i] = _topDown[i].Forward(_lateral[i].Forward(ci), Fn.UpsampleNearest(inner[i + 1], ci));
        }
        var levels = new List<Var>(NumLevels);
        Var? p6 = null;
        if (LastLevel == FpnLastLevel.P6P7) p6 = _p6!.Forward(c[3]); // computed before the outputs, as before: same op order in traces
        for (int i = 0; i < n; i++) levels.Add(_output[i].Forward(inner[i]));
        if (LastLevel == FpnLastLevel.P6P7FromP5) p6 = _p6!.Forward(levels[n - 1]);
        if (HasP7)
        {
            levels.Add(p6!);
            levels.Add(_p7!.Forward(Fn.Relu(p6!))); // ReLU of codes is a clamp at the zero point: still on P6's grid
        }
        else levels.Add(Fn.MaxPool2d(levels[n - 1], 1, 2)); // LastLevelMaxPool: F.max_pool2d(P5, 1, 2, 0), on P5's grid
        return [.. levels];
    }
}
