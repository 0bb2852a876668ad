using Nanoq.Autograd;
using Nanoq.Nn.Layers;

namespace Nanoq.Nn.Backbones;

/// <summary>
/// MobileNetV2 block (Sandler et al. 2018): [1×1 expand → ReLU6] → 3×3 depthwise → ReLU6 → 1×1 linear projection,
/// plus the input when stride is 1 and channels match. torchvision's layout: one Sequential named <c>conv</c>.
/// </summary>
public sealed class InvertedResidual : Layer
{
    public InvertedResidual(int inC, int outC, int stride, int expandRatio, Rng rng)
    {
        int hidden = inC * expandRatio;
        UseResidual = stride == 1 && inC == outC;
        var conv = new Sequential();
        if (expandRatio != 1) conv.Add(ConvBnAct.Create(inC, hidden, 1, 1, 1, Activation.ReLU6, rng));
        conv.Add(ConvBnAct.Create(hidden, hidden, 3, stride, hidden, Activation.ReLU6, rng));
        conv.Add(new Conv2d(hidden, outC, 1, 1, 0, bias: false, rng: rng));
        conv.Add(new BatchNorm2d(outC));
        Conv = Child("conv", conv);
    }

    public bool UseResidual { get; }
    public Sequential Conv { get; }

    public override Var Forward(Var x) => UseResidual ? Fn.Add(x, Conv.Forward(x)) : Conv.Forward(x);
}
