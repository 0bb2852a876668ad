using Nanoq.Autograd;
using Nanoq.Nn.Layers;

namespace Nanoq.Nn.Taps;

/// <summary>
/// fully connected → [activation]: a box head's fc layer or a classifier as one quantized layer. x [N, in] → [N, out].
/// The linear layer stays a child of the owner; quantization installs a weight quantizer (per output feature) and an
/// output quantizer here, and the integer program runs it as an fc op.
/// </summary>
public sealed class LinearUnit : WeightedTap
{
    public LinearUnit(Linear linear, ActivationKind activation)
    {
        Linear = linear;
        Activation = activation;
    }

    public Linear Linear { get; }
    public ActivationKind Activation { get; }

    public Var Forward(Var x) => Traced([x], () =>
        QuantizeOutput(ConvUnit.Activate(Fn.Linear(x, QuantizeWeight(Linear.Weight), Linear.Bias), Activation)));
}
