using Nanoq.Autograd;

namespace Nanoq.Nn.Taps;

/// <summary>
/// y = act(a + b), then the output site: a residual or FPN top-down add. Its inputs are already quantized by their
/// producers (conv units, sites); the integer runtime rescales both to a common scale, adds and requantizes to the
/// output's parameters (TFLite's quantized ADD), with the activation as the clamp.
/// </summary>
public sealed class AddUnit : Tap
{
    public AddUnit(ActivationKind activation)
    {
        Activation = activation;
    }

    public ActivationKind Activation { get; }

    /// <summary>Where the sum is quantized; its <see cref="Tap.Name"/> is this unit's name + ".out".</summary>
    public ActivationSite Output { get; } = new();

    public Var Forward(Var a, Var b) => Output.Forward(ConvUnit.Activate(Fn.Add(a, b), Activation));
}
