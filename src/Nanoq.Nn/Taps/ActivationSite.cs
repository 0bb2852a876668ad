using Nanoq.Autograd;

namespace Nanoq.Nn.Taps;

/// <summary>
/// A tensor the network passes on that is not the output of a <see cref="ConvUnit"/>: the normalized input image,
/// the output of a residual or FPN add. Identity in float; quantization installs an observer (calibration) or a
/// fake quantizer here.
/// </summary>
public sealed class ActivationSite : Tap
{
    public Func<Var, Var>? Implementation { get; set; }

    public Var Forward(Var x) => Implementation is null ? x : Implementation(x);
}
