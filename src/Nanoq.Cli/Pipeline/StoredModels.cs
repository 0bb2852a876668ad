using Nanoq.Detection;
using Nanoq.Quant;

namespace Nanoq.Cli.Pipeline;

/// <summary>
/// A run folder's models by kind, as a detection function: <c>float</c> (float.safetensors), <c>fake-quant</c> (the
/// recipe's fine-tuned checkpoint, evaluated with its fake quantizers) or <c>integer</c> (the recipe's .nqm file).
/// </summary>
public static class StoredModels
{
    public static readonly string[] Kinds = ["float", "fake-quant", "integer"];

    public static (Func<Tensor, IReadOnlyList<(int Height, int Width)>, IReadOnlyList<Detections>> Detect, IDetectorConfig Config, string Label)
        Open(RunFolder run, string kind, QuantRecipe recipe)
    {
        switch (kind)
        {
            case "float":
                var f = Stages.LoadFloat(run);
                return (f.Detect, f.Config, "float");
            case "fake-quant":
                var (q, _) = QuantStages.Load(run, recipe, run.QuantCheckpoint(recipe));
                return (q.Detect, q.Config, RunFolder.Label(recipe));
            case "integer":
                if (!File.Exists(run.IntegerModel(recipe)))
                    throw new FileNotFoundException($"{run.IntegerModel(recipe)} not found: run nanoq convert --out {run.Dir} first");
                var i = IntegerStages.Load(run, recipe);
                return (i.Detect, run.LoadModelInfo().Config, RunFolder.Label(recipe) + "-integer");
            default:
                throw new Commands.UsageException($"--model must be one of {string.Join(", ", Kinds)}, got '{kind}'");
        }
    }
}
