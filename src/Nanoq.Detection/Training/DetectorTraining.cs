using Nanoq.Autograd;
using Nanoq.Nn.Training;
using Nanoq.Quant;
using Nanoq.Quant.Taps;

namespace Nanoq.Detection;

/// <summary>
/// The pipeline's learning stages for any <see cref="IDetector"/>: float training, and FQN's quantization-aware
/// fine-tuning (install a recipe's quantizers, calibrate on n_cal batches, fine-tune at a fixed LR). Both run the one
/// training loop (<see cref="Trainer{TBatch}"/>: checkpoints, resume, Ctrl-C, divergence).
/// </summary>
public static class DetectorTraining
{
    /// <summary>
    /// Trains <paramref name="detector"/> on <paramref name="batchesFrom"/>(step) with SGD; resumes the checkpoint if it
    /// exists. A detector whose loss samples (<see cref="IStepSeeded"/>) is told each step first.
    /// </summary>
    public static IReadOnlyList<TrainPoint> Train(IDetector detector, TrainOptions options, Func<int, IEnumerable<DetectionBatch>> batchesFrom,
        string checkpoint, string tag, TextWriter log, CancellationToken cancel, Action<int, int, string>? progress = null, Action<int>? afterStep = null)
    {
        var seeded = detector as IStepSeeded;
        if (seeded is not null) seeded.Step = 0;
        var trainer = new Trainer<DetectionBatch>(detector.Network, options,
            b => detector.Loss(detector.Forward(new Var(b.Images)), b.Targets).Terms, batchesFrom)
        {
            Progress = progress,
            AfterStep = step =>
            {
                if (seeded is not null) seeded.Step = step; // after each step, and once on resume: the next loss's step
                afterStep?.Invoke(step);
            },
        };
        return trainer.Run(checkpoint, tag, log, cancel);
    }

    /// <summary>
    /// FQN's stages on a trained float detector, in place: installs <paramref name="recipe"/>'s quantizers; unless
    /// <paramref name="checkpoint"/> exists (a resumed fine-tuning restores the calibrated grids from it), calibrates
    /// activation ranges on the first n_cal of <paramref name="calibration"/>; then fine-tunes for the recipe's steps at
    /// the recipe's fraction of <paramref name="floatSchedule"/>'s LR, constant. Leaves the detector in eval mode.
    /// <paramref name="afterStep"/> sees the model after calibration (step 0), after each optimizer step, and once on
    /// resume: what an experiment
    /// records along the way (batch-norm statistics, an evaluation every K steps) without a second training loop.
    /// </summary>
    public static QuantRegistry FineTune(IDetector detector, QuantRecipe recipe, TrainOptions floatSchedule, IEnumerable<DetectionBatch> calibration,
        Func<int, IEnumerable<DetectionBatch>> batchesFrom, string checkpoint, string tag, TextWriter log, CancellationToken cancel,
        Action<int, int, string>? progress = null, Action<int>? afterStep = null)
    {
        var registry = ModelQuantizer.Install(detector.Network, recipe);
        bool fresh = !File.Exists(checkpoint);
        if (fresh)
        {
            int used = Calibrator.Calibrate(detector.Network, calibration,
                b => { using (b) detector.Forward(new Var(b.Images)); }, recipe.CalibrationBatches);
            log.WriteLine($"{recipe.Name}: calibrated {registry.Quantizers.Count(q => q.NeedsCalibration)} activation ranges on {used} batches");
        }
        if (recipe.Steps > 0)
        {
            var options = floatSchedule with { Steps = recipe.Steps, Lr = recipe.FineTuneLr(floatSchedule.Lr), WarmupSteps = 0, Milestones = [] };
            if (fresh) afterStep?.Invoke(0); // the calibrated model before its first step (a resumed run is shown its step by the trainer)
            Train(detector, options, batchesFrom, checkpoint, tag, log, cancel, progress, step =>
            {
                ModelQuantizer.SetStep(detector.Network, step);
                afterStep?.Invoke(step);
            });
        }
        detector.Network.Eval();
        return registry;
    }
}
