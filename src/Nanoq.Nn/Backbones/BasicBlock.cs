using Nanoq.Autograd;
using Nanoq.Nn.Layers;
using Nanoq.Nn.Taps;

namespace Nanoq.Nn.Backbones;

/// <summary>ResNet-18/34 block: relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)); torchvision's names.</summary>
public sealed class BasicBlock : Layer
{
    public const int Expansion = 1;

    private readonly ConvUnit _unit1, _unit2;
    private readonly AddUnit _add;

    public BasicBlock(int inC, int planes, int stride, Rng rng)
    {
        var conv1 = Child("conv1", new Conv2d(inC, planes, 3, stride, 1, bias: false, rng: rng));
        var bn1 = Child("bn1", new BatchNorm2d(planes));
        var conv2 = Child("conv2", new Conv2d(planes, planes, 3, 1, 1, bias: false, rng: rng));
        var bn2 = Child("bn2", new BatchNorm2d(planes));
        if (stride != 1 || inC != planes)
            Downsample = Child("downsample", new ConvNormActivation(inC, planes, 1, stride, 1, ActivationKind.None, rng));
        _unit1 = Tap("conv1", new ConvUnit(conv1, bn1, ActivationKind.Relu));
        _unit2 = Tap("conv2", new ConvUnit(conv2, bn2, ActivationKind.None));
        _add = Tap("add", new AddUnit(ActivationKind.Relu));
    }

    public ConvNormActivation? Downsample { get; }

    /// <summary>conv1 → bn1 → ReLU (read-only, for conversion to the integer runtime).</summary>
    public ConvUnit Unit1 => _unit1;

    /// <summary>conv2 → bn2, no activation: the add applies the ReLU.</summary>
    public ConvUnit Unit2 => _unit2;

    /// <summary>relu(main + shortcut), operands in that order.</summary>
    public AddUnit Add => _add;

    public override Var Forward(Var x)
    {
        var y = _unit2.Forward(_unit1.Forward(x));
        return _add.Forward(y, Downsample?.Forward(x) ?? x);
    }
}
