using Nanoq.Autograd;
using Nanoq.Nn;
using Nanoq.Nn.Layers;

namespace Nanoq.Cli.Training;

/// <summary>
/// The small CNN of the Fashion-MNIST check (issue: "train real networks"): two conv–BN–ReLU–maxpool stages and a
/// two-layer classifier. x [n, 1, 28, 28] → logits [n, 10].
/// <code>
///   conv 3×3 1→32, BN, ReLU, maxpool 2   [n, 32, 14, 14]
///   conv 3×3 32→64, BN, ReLU, maxpool 2  [n, 64, 7, 7]
///   flatten, linear 3136→128, ReLU, linear 128→10
/// </code>
/// </summary>
public sealed class FashionMnistClassifier : Layer
{
    private readonly Sequential _net;

    public FashionMnistClassifier(ulong seed = 0)
    {
        var rng = new Rng(seed);
        _net = Child("net", new Sequential(
            new Conv2d(1, 32, 3, 1, 1, bias: false, rng: rng), new BatchNorm2d(32), Activation.ReLU(), new MaxPool2d(2, 2),
            new Conv2d(32, 64, 3, 1, 1, bias: false, rng: rng), new BatchNorm2d(64), Activation.ReLU(), new MaxPool2d(2, 2),
            new Flatten(), new Linear(64 * 7 * 7, 128, rng: rng), Activation.ReLU(), new Linear(128, 10, rng: rng)));
        foreach (var (_, m) in NamedModules())
            if (m is Conv2d c) Nn.Init.Initializers.KaimingNormal(c.Weight.Value, rng, fanOut: true);
    }

    public override Var Forward(Var x) => _net.Forward(x);
}
