using Nanoq.Nn;
using Nanoq.Nn.Taps;
using Nanoq.Quant.Modules;

namespace Nanoq.Quant.Taps;

/// <summary>
/// Turns a float model into its quantization-aware version in place, by installing quantizers at every tap
/// (DESIGN.md §5.6: every activation from the normalized input to the head outputs):
/// <list type="bullet">
/// <item>each <see cref="ConvUnit"/> (conv → BN → act) becomes a <see cref="QConvBn"/> built by the recipe: BN folded
/// (F: frozen statistics), weights fake-quantized (C: per channel), output fake-quantized (P: calibrated range);</item>
/// <item>each <see cref="ActivationSite"/> (the input, every residual/FPN add output) gets an activation quantizer.</item>
/// </list>
/// The model's parameters are untouched, so its state dict and optimizer see the same tensors; quantizer names are
/// the tap names plus ".weight"/".out" (conv units) or the site name itself.
/// </summary>
public static class ModelQuantizer
{
    public static QuantRegistry Install(Module model, QuantRecipe recipe)
    {
        recipe = recipe.Validated();
        foreach (var (name, tap) in model.NamedTaps())
        {
            switch (tap)
            {
                case ConvUnit u:
                    u.Implementation = new QuantizedConvUnit(recipe.Wrap(u.Conv, u.Bn, u.Activation, consumerFloor: u.ConsumerFloor));
                    break;
                case ActivationSite s:
                    s.Implementation = new QuantizedSite(recipe.CreateActQuantizer(s.ConsumerFloor), model);
                    break;
            }
        }
        return QuantRegistry.Collect(model);
    }

    /// <summary>Back to float: removes every installed quantizer.</summary>
    public static void Remove(Module model)
    {
        foreach (var (_, tap) in model.NamedTaps())
        {
            if (tap is ConvUnit u) u.Implementation = null;
            if (tap is ActivationSite s) s.Implementation = null;
        }
    }

    /// <summary>The quantizers installed at a model's taps, with the tap path as the owner's name.</summary>
    internal static IEnumerable<(string Path, IHasQuantizers Owner)> Owners(Module model)
    {
        foreach (var (name, tap) in model.NamedTaps())
        {
            if (tap is ConvUnit { Implementation: QuantizedConvUnit q }) yield return (name, q);
            if (tap is ActivationSite { Implementation: QuantizedSite site }) yield return (name, site);
        }
    }

    /// <summary>The QConvBn layers of a quantized model (e.g. to advance their step counters on resume).</summary>
    public static IEnumerable<QConvBn> Layers(Module model) =>
        model.NamedTaps().Select(t => t.Tap).OfType<ConvUnit>().Select(u => u.Implementation).OfType<QuantizedConvUnit>().Select(q => q.Layer);
}
