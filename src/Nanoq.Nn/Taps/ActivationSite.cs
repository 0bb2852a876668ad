using Nanoq.Autograd;

namespace Nanoq.Nn.Taps;

/// <summary>
/// A tensor the network passes on that is not the output of a <see cref="ConvUnit"/>: the normalized input image,
/// the output of a residual or FPN add. Identity in float; quantization installs an observer (calibration) or a
/// fake quantizer here.
/// </summary>
public sealed class ActivationSite : Tap
{
    /// <summary>A replacement forward (an observer or a fake quantizer); null for the float identity.</summary>
    public IActivationSiteForward? Implementation { get; set; }

    public Var Forward(Var x) => Implementation is null ? x : Implementation.Forward(x);
}
