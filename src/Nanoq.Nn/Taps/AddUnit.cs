using Nanoq.Autograd;

namespace Nanoq.Nn.Taps;

/// <summary>
/// y = act(a + b), then the output quantizer: a residual or FPN top-down add. Its inputs are already quantized by their
/// producers; the integer runtime rescales both to a common scale, adds and requantizes to the output's grid
/// (TFLite's quantized ADD), with the activation as the clamp.
/// </summary>
public sealed class AddUnit : Tap
{
    public AddUnit(ActivationKind activation)
    {
        Activation = activation;
    }

    public ActivationKind Activation { get; }

    public Var Forward(Var a, Var b) => Traced([a, b], () => QuantizeOutput(ConvUnit.Activate(Fn.Add(a, b), Activation)));
}
