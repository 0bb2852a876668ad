using Nanoq.Autograd;
using Nanoq.Nn;
using Nanoq.Nn.Taps;
using Nanoq.Quant.Modules;

namespace Nanoq.Quant.Taps;

/// <summary>
/// The fake quantizer a quantized model installs at an <see cref="Nn.Taps.ActivationSite"/> (the input image, an
/// add's output). It follows the train/eval mode of <paramref name="model"/> (the EMA baseline updates its range in
/// training forwards only).
/// </summary>
public sealed class QuantizedSite(ActQuantizer quantizer, Module model) : IActivationSiteForward, IHasQuantizers
{
    public ActQuantizer Quantizer { get; } = quantizer;

    public Var Forward(Var x)
    {
        if (Quantizer.Training != model.Training) Quantizer.Train(model.Training);
        return Quantizer.Forward(x);
    }

    /// <summary>The site's name is the quantizer's name (no local suffix: "input", "….add.out").</summary>
    public IEnumerable<(string LocalName, IQuantizer Quantizer)> Quantizers => [("", Quantizer)];
}
