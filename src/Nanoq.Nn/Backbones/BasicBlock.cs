using Nanoq.Autograd;
using Nanoq.Nn.Layers;

namespace Nanoq.Nn.Backbones;

/// <summary>ResNet-18/34 block: relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)); torchvision's names.</summary>
public sealed class BasicBlock : Layer
{
    public const int Expansion = 1;

    public BasicBlock(int inC, int planes, int stride, Rng rng)
    {
        Conv1 = Child("conv1", new Conv2d(inC, planes, 3, stride, 1, bias: false, rng: rng));
        Bn1 = Child("bn1", new BatchNorm2d(planes));
        Conv2 = Child("conv2", new Conv2d(planes, planes, 3, 1, 1, bias: false, rng: rng));
        Bn2 = Child("bn2", new BatchNorm2d(planes));
        if (stride != 1 || inC != planes)
            Downsample = Child("downsample", new Sequential(
                new Conv2d(inC, planes, 1, stride, 0, bias: false, rng: rng), new BatchNorm2d(planes)));
    }

    public Conv2d Conv1 { get; }
    public BatchNorm2d Bn1 { get; }
    public Conv2d Conv2 { get; }
    public BatchNorm2d Bn2 { get; }
    public Sequential? Downsample { get; }

    public override Var Forward(Var x)
    {
        var y = Fn.Relu(Bn1.Forward(Conv1.Forward(x)));
        y = Bn2.Forward(Conv2.Forward(y));
        var shortcut = Downsample?.Forward(x) ?? x;
        return Fn.Relu(Fn.Add(y, shortcut));
    }
}
