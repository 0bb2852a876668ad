using Nanoq.Autograd;
using Nanoq.Nn.Taps;

namespace Nanoq.Nn.Layers;

/// <summary>
/// conv (no bias) → batch norm → activation, as torchvision's <c>Conv2dNormActivation</c>: children named "0" (conv)
/// and "1" (batch norm) so state dict keys match (<c>features.0.1.weight</c>, <c>downsample.0.weight</c>); the three
/// run as one <see cref="ConvUnit"/> tap named "unit".
/// </summary>
public sealed class ConvNormActivation : Layer
{
    public ConvNormActivation(int inC, int outC, int kernel, int stride, int groups, ActivationKind activation, Rng rng)
    {
        var conv = Child("0", new Conv2d(inC, outC, kernel, stride, (kernel - 1) / 2, 1, groups, bias: false, rng: rng));
        var bn = Child("1", new BatchNorm2d(outC));
        Unit = Tap("unit", new ConvUnit(conv, bn, activation));
    }

    public ConvUnit Unit { get; }
    public int OutChannels => Unit.Conv.OutChannels;

    public override Var Forward(Var x) => Unit.Forward(x);
}
