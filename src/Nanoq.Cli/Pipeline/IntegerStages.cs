using Nanoq.Detection;
using Nanoq.Quant;

namespace Nanoq.Cli.Pipeline;

/// <summary>Conversion of a fine-tuned detector to the integer-only model, and loading it back.</summary>
public static class IntegerStages
{
    /// <summary>Loads the recipe's fine-tuned checkpoint, converts it (one traced forward) and writes the integer model file.</summary>
    public static (IntegerDetector Model, long FileBytes) Convert(RunFolder run, QuantRecipe recipe,
        Kernels.Integer.RequantRounding rounding = Kernels.Integer.RequantRounding.Double)
    {
        var (model, _) = QuantStages.Load(run, recipe, run.QuantCheckpoint(recipe));
        int side = (model.Config.InputSize + 31) / 32 * 32;
        using var sample = Tensor.Zeros(1, 3, side, side);
        var integer = Detectors.Convert(model, sample, rounding);
        string path = run.IntegerModel(recipe);
        integer.Save(path);
        return (integer, new FileInfo(path).Length);
    }

    /// <summary>An integer model file of this run (fails clearly if it is not one, or damaged).</summary>
    public static IntegerDetector Load(RunFolder run, QuantRecipe recipe) => IntegerDetector.Load(run.IntegerModel(recipe));
}
