using Nanoq.Detection;
using Nanoq.Quant;

namespace Nanoq.Cli.Pipeline;

/// <summary>Conversion of a fine-tuned detector to the integer-only model, and loading it back.</summary>
public static class IntegerStages
{
    /// <summary>Loads the recipe's fine-tuned checkpoint, converts it and writes the integer model file.</summary>
    public static (IntegerRetinaNet Model, long FileBytes) Convert(RunFolder run, QuantRecipe recipe)
    {
        var (model, registry) = QuantStages.Load(run, recipe, run.QuantCheckpoint(recipe));
        var integer = IntegerConverter.Convert(model, registry);
        string path = run.IntegerModel(recipe);
        integer.Save(path);
        return (integer, new FileInfo(path).Length);
    }

    /// <summary>An integer model file of this run (fails clearly if it is not one, or damaged).</summary>
    public static IntegerRetinaNet Load(RunFolder run, QuantRecipe recipe) =>
        IntegerRetinaNet.Load(run.IntegerModel(recipe), run.LoadModelInfo().Config);
}
