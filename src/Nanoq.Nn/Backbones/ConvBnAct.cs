using Nanoq.Nn.Layers;

namespace Nanoq.Nn.Backbones;

/// <summary>
/// conv (no bias) → batch norm → optional activation, as torchvision's <c>Conv2dNormActivation</c>: a
/// <see cref="Sequential"/> whose children are named 0, 1, 2 so state dict keys match (<c>features.0.1.weight</c>).
/// </summary>
public static class ConvBnAct
{
    public static Sequential Create(int inC, int outC, int kernel, int stride, int groups, Func<Activation>? act, Rng rng)
    {
        var seq = new Sequential(
            new Conv2d(inC, outC, kernel, stride, (kernel - 1) / 2, 1, groups, bias: false, rng: rng),
            new BatchNorm2d(outC));
        if (act is not null) seq.Add(act());
        return seq;
    }
}
