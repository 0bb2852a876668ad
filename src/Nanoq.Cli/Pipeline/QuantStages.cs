using System.Diagnostics;
using Nanoq.Detection;
using Nanoq.Nn.Checkpoints;
using Nanoq.Nn.Training;
using Nanoq.Quant;
using Nanoq.Quant.Taps;

namespace Nanoq.Cli.Pipeline;

/// <summary>
/// FQN on a run folder's float detector (<see cref="DetectorTraining.FineTune"/>): the checkpoint is the model's state dict
/// — quantizers included, so a fine-tuned model reloads (evaluation, conversion) or resumes from it alone.
/// </summary>
public static class QuantStages
{
    public static string Tag(QuantRecipe r) => $"qat-{r.Name}-int{r.Bits}";

    /// <summary>
    /// Loads the float model, quantizes it by <paramref name="recipe"/>, calibrates (unless resuming) and fine-tunes;
    /// <paramref name="afterStep"/> sees the model after each step (<see cref="DetectorTraining.FineTune"/>).
    /// </summary>
    public static (IDetector Model, QuantRegistry Registry, TimeSpan Time) FineTune(RunFolder run, DataSplits data, QuantRecipe recipe,
        TrainOptions floatSchedule, string checkpoint, TextWriter log, CancellationToken cancel, Action<IDetector, int>? afterStep = null)
    {
        var clock = Stopwatch.StartNew();
        var model = Stages.LoadFloat(run);
        var transform = Stages.Transform(model.Config);
        var registry = DetectorTraining.FineTune(model, recipe, floatSchedule, Stages.CalibrationBatches(data.Train, transform, floatSchedule, data.SkipBadImages, log),
            Stages.TrainingBatches(data.Train, transform, floatSchedule, data.SkipBadImages, log), checkpoint, Tag(recipe), log, cancel,
            Stages.Progress(log, Tag(recipe), recipe.Steps), afterStep is null ? null : step => afterStep(model, step));
        return (model, registry, clock.Elapsed);
    }

    /// <summary>A fine-tuned model from its checkpoint (the float run's configuration, the recipe's quantizers, their state).</summary>
    public static (IDetector Model, QuantRegistry Registry) Load(RunFolder run, QuantRecipe recipe, string checkpoint)
    {
        var info = run.LoadModelInfo();
        if (!File.Exists(checkpoint))
            throw new FileNotFoundException($"{checkpoint} not found: run nanoq quantize --out {run.Dir} first");
        var model = Detectors.Create(info.Config);
        var registry = ModelQuantizer.Install(model.Network, recipe);
        Safetensors.Load(checkpoint, out var meta);
        if (meta.GetValueOrDefault("tag") != Tag(recipe))
            throw new Nn.StateDictException($"{checkpoint}: a checkpoint of '{meta.GetValueOrDefault("tag")}', not of '{Tag(recipe)}'.");
        StateDicts.LoadModel(model.Network, checkpoint);
        model.Network.Eval();
        return (model, registry);
    }
}
