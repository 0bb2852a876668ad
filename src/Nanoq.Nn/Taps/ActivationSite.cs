using Nanoq.Autograd;

namespace Nanoq.Nn.Taps;

/// <summary>
/// A tensor the network passes on that no conv, linear or add unit produced: the normalized input image, a pooled
/// feature a detector hands on. The identity in float; quantization installs an output quantizer here.
/// </summary>
public sealed class ActivationSite : Tap
{
    public Var Forward(Var x) => Traced([x], () => QuantizeOutput(x));
}
