using Nanoq.Autograd;
using Nanoq.Nn.Layers;
using Nanoq.Nn.Taps;

namespace Nanoq.Nn.Backbones;

/// <summary>ResNet-50 block (torchvision v1.5: the stride sits on the 3×3 conv): 1×1 → 3×3 → 1×1 (×4 channels) + shortcut.</summary>
public sealed class Bottleneck : Layer
{
    public const int Expansion = 4;

    private readonly ConvUnit _unit1, _unit2, _unit3;
    private readonly AddUnit _add;

    public Bottleneck(int inC, int planes, int stride, Rng rng)
    {
        int outC = planes * Expansion;
        var conv1 = Child("conv1", new Conv2d(inC, planes, 1, 1, 0, bias: false, rng: rng));
        var bn1 = Child("bn1", new BatchNorm2d(planes));
        var conv2 = Child("conv2", new Conv2d(planes, planes, 3, stride, 1, bias: false, rng: rng));
        var bn2 = Child("bn2", new BatchNorm2d(planes));
        var conv3 = Child("conv3", new Conv2d(planes, outC, 1, 1, 0, bias: false, rng: rng));
        var bn3 = Child("bn3", new BatchNorm2d(outC));
        if (stride != 1 || inC != outC)
            Downsample = Child("downsample", new ConvNormActivation(inC, outC, 1, stride, 1, ActivationKind.None, rng));
        _unit1 = Tap("conv1", new ConvUnit(conv1, bn1, ActivationKind.Relu));
        _unit2 = Tap("conv2", new ConvUnit(conv2, bn2, ActivationKind.Relu));
        _unit3 = Tap("conv3", new ConvUnit(conv3, bn3, ActivationKind.None));
        _add = Tap("add", new AddUnit(ActivationKind.Relu));
    }

    public ConvNormActivation? Downsample { get; }

    /// <summary>The 1×1 reduce, 3×3 (strided) and 1×1 expand units (read-only, for conversion to the integer runtime).</summary>
    public ConvUnit Unit1 => _unit1;
    public ConvUnit Unit2 => _unit2;
    public ConvUnit Unit3 => _unit3;

    /// <summary>relu(main + shortcut), operands in that order.</summary>
    public AddUnit Add => _add;

    public override Var Forward(Var x)
    {
        var y = _unit3.Forward(_unit2.Forward(_unit1.Forward(x)));
        return _add.Forward(y, Downsample?.Forward(x) ?? x);
    }
}
