using Nanoq.Autograd;
using Nanoq.Nn.Layers;

namespace Nanoq.Nn.Backbones;

/// <summary>ResNet-50 block (torchvision v1.5: the stride sits on the 3×3 conv): 1×1 → 3×3 → 1×1 (×4 channels) + shortcut.</summary>
public sealed class Bottleneck : Layer
{
    public const int Expansion = 4;

    public Bottleneck(int inC, int planes, int stride, Rng rng)
    {
        Conv1 = Child("conv1", new Conv2d(inC, planes, 1, 1, 0, bias: false, rng: rng));
        Bn1 = Child("bn1", new BatchNorm2d(planes));
        Conv2 = Child("conv2", new Conv2d(planes, planes, 3, stride, 1, bias: false, rng: rng));
        Bn2 = Child("bn2", new BatchNorm2d(planes));
        Conv3 = Child("conv3", new Conv2d(planes, planes * Expansion, 1, 1, 0, bias: false, rng: rng));
        Bn3 = Child("bn3", new BatchNorm2d(planes * Expansion));
        if (stride != 1 || inC != planes * Expansion)
            Downsample = Child("downsample", new Sequential(
                new Conv2d(inC, planes * Expansion, 1, stride, 0, bias: false, rng: rng), new BatchNorm2d(planes * Expansion)));
    }

    public Conv2d Conv1 { get; }
    public BatchNorm2d Bn1 { get; }
    public Conv2d Conv2 { get; }
    public BatchNorm2d Bn2 { get; }
    public Conv2d Conv3 { get; }
    public BatchNorm2d Bn3 { get; }
    public Sequential? Downsample { get; }

    public override Var Forward(Var x)
    {
        var y = Fn.Relu(Bn1.Forward(Conv1.Forward(x)));
        y = Fn.Relu(Bn2.Forward(Conv2.Forward(y)));
        y = Bn3.Forward(Conv3.Forward(y));
        var shortcut = Downsample?.Forward(x) ?? x;
        return Fn.Relu(Fn.Add(y, shortcut));
    }
}
