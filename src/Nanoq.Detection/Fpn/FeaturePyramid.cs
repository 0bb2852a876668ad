using Nanoq.Autograd;
using Nanoq.Nn;
using Nanoq.Nn.Init;
using Nanoq.Nn.Layers;
using Nanoq.Nn.Taps;

namespace Nanoq.Detection;

/// <summary>
/// Feature pyramid network (Lin et al. 2017) as RetinaNet uses it: P3–P5 from C3–C5 by 1×1 lateral convs, a
/// top-down path of nearest upsampling + add, and 3×3 output convs; P6 by a stride-2 3×3 conv on C5, P7 by a
/// stride-2 3×3 conv on ReLU(P6) (DESIGN.md §6). All levels have <see cref="Channels"/> channels.
/// <code>
///   inner5 = lateral5(C5)                    P5 = out5(inner5)
///   inner4 = lateral4(C4) + up(inner5)       P4 = out4(inner4)
///   inner3 = lateral3(C3) + up(inner4)       P3 = out3(inner3)
///   P6 = p6(C5)                              P7 = p7(relu(P6))
/// </code>
/// Every conv is a <see cref="ConvUnit"/> and every add an <see cref="AddUnit"/>, so quantization reaches each
/// lateral, top-down add and output. Upsampling acts on codes, so it needs no quantizer of its own.
/// Initialization as torchvision's FPN: Kaiming uniform with a = 1, zero bias.
/// </summary>
public sealed class FeaturePyramid : Module
{
    private readonly ConvUnit[] _lateral = new ConvUnit[3], _output = new ConvUnit[3];
    private readonly AddUnit[] _topDown = new AddUnit[2];
    private readonly ConvUnit _p6, _p7;

    /// <param name="inChannels">channels of C3, C4, C5.</param>
    public FeaturePyramid(int[] inChannels, int channels, Rng rng)
    {
        Channels = channels;
        for (int i = 0; i < 3; i++)
        {
            int level = i + 3;
            var lat = Child($"lateral{level}", new Conv2d(inChannels[i], channels, 1, rng: rng));
            var outConv = Child($"output{level}", new Conv2d(channels, channels, 3, 1, 1, rng: rng));
            _lateral[i] = Tap($"lateral{level}", new ConvUnit(lat, null, ActivationKind.None));
            _output[i] = Tap($"output{level}", new ConvUnit(outConv, null, ActivationKind.None));
        }
        _topDown[0] = Tap("topdown3", new AddUnit(ActivationKind.None));
        _topDown[1] = Tap("topdown4", new AddUnit(ActivationKind.None));
        var p6 = Child("p6", new Conv2d(inChannels[2], channels, 3, 2, 1, rng: rng));
        var p7 = Child("p7", new Conv2d(channels, channels, 3, 2, 1, rng: rng));
        _p6 = Tap("p6", new ConvUnit(p6, null, ActivationKind.None));
        _p7 = Tap("p7", new ConvUnit(p7, null, ActivationKind.None));
        foreach (var (_, m) in NamedModules())
            if (m is Conv2d c)
            {
                Initializers.KaimingUniform(c.Weight.Value, rng, gain: 1f);
                c.Bias?.Value.Clear();
            }
    }

    public int Channels { get; }

    /// <summary>lateral3, lateral4, lateral5 (read-only, for conversion to the integer runtime).</summary>
    public IReadOnlyList<ConvUnit> Lateral => _lateral;

    /// <summary>output3, output4, output5.</summary>
    public IReadOnlyList<ConvUnit> Output => _output;

    /// <summary>topdown3, topdown4: lateral + upsampled coarser level, operands in that order.</summary>
    public IReadOnlyList<AddUnit> TopDown => _topDown;

    public ConvUnit P6 => _p6;
    public ConvUnit P7 => _p7;

    /// <summary>[C2, C3, C4, C5] (C2 unused) → [P3, P4, P5, P6, P7].</summary>
    public Var[] Forward(Var[] c)
    {
        var inner5 = _lateral[2].Forward(c[3]);
        var inner4 = _topDown[1].Forward(_lateral[1].Forward(c[2]), Fn.UpsampleNearest(inner5, c[2]));
        var inner3 = _topDown[0].Forward(_lateral[0].Forward(c[1]), Fn.UpsampleNearest(inner4, c[1]));
        var p6 = _p6.Forward(c[3]);
        var p7 = _p7.Forward(Fn.Relu(p6)); // ReLU of codes is a clamp at the zero point: still on P6's grid
        return [_output[0].Forward(inner3), _output[1].Forward(inner4), _output[2].Forward(inner5), p6, p7];
    }
}
