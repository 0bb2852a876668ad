using Nanoq.Nn;
using Nanoq.Nn.Taps;
using Nanoq.Quant.Quantizers;

namespace Nanoq.Quant.Taps;

/// <summary>
/// Turns a float model into its quantization-aware version in place, by installing quantizer modules at every tap
/// (DESIGN.md §5.6: every weight, and every activation from the normalized input to the head outputs):
/// <list type="bullet">
/// <item>each <see cref="ConvUnit"/> (conv → BN → act): a weight quantizer ("weight_fake_quant") and an output
/// quantizer ("activation_post_process"), and <see cref="FoldedConv"/> as its computation (BN folded: F frozen or
/// batch statistics);</item>
/// <item>each <see cref="LinearUnit"/>: a weight quantizer (per output feature) and an output quantizer;</item>
/// <item>each <see cref="ActivationSite"/> (the input…) and <see cref="AddUnit"/>: an output quantizer.</item>
/// </list>
/// The float model's parameters are untouched; the quantizers become part of its module tree, so its state dict,
/// train/eval switch and optimizer reach them.
/// </summary>
public static class ModelQuantizer
{
    public static QuantRegistry Install(Module model, QuantRecipe recipe)
    {
        recipe = recipe.Validated();
        foreach (var (_, tap) in model.NamedTaps().ToList())
        {
            tap.ClearQuantization();
            switch (tap)
            {
                case ConvUnit u:
                    u.SetWeightQuantizer(recipe.CreateWeightQuantizer(u.Conv.OutChannels));
                    u.Implementation = new FoldedConv(recipe.FoldMode, recipe.FreezeBnAtStep);
                    break;
                case LinearUnit l:
                    l.SetWeightQuantizer(recipe.CreateWeightQuantizer(l.Linear.Weight.Shape[0]));
                    break;
            }
            tap.SetOutputQuantizer(recipe.CreateActQuantizer(tap.ConsumerFloor));
        }
        return QuantRegistry.Collect(model);
    }

    /// <summary>Back to float: removes every installed quantizer.</summary>
    public static void Remove(Module model)
    {
        foreach (var (_, tap) in model.NamedTaps()) tap.ClearQuantization();
    }

    /// <summary>The folded convs of a quantized model.</summary>
    public static IEnumerable<FoldedConv> FoldedConvs(Module model) =>
        model.NamedTaps().Select(t => t.Tap).OfType<ConvUnit>().Select(u => u.Implementation).OfType<FoldedConv>();

    /// <summary>Tells every folded conv how many optimizer steps have been taken (the clock of freezing BN for the last N steps).</summary>
    public static void SetStep(Module model, int step)
    {
        foreach (var f in FoldedConvs(model)) f.Step = step;
    }
}
