using Nanoq.Autograd;
using Nanoq.Nn;

namespace Nanoq.Quant;

/// <summary>
/// The calibration pass (DESIGN.md §5.7): run the float model on n_cal training batches (20 by default), let every
/// activation quantizer's observer record what it sees, then fix each one's range. "Float model" is meant literally:
/// activation quantizers pass values through while recording, weight quantizers are switched off, and the model runs
/// in eval mode without a graph, so batch norm uses (and does not update) its running statistics.
/// Afterwards the model is back in the train/eval mode it had, with its weight quantizers as they were.
/// Each batch closes with <see cref="Quantizers.FakeQuantizer.EndCalibrationBatch"/>, so a layer that runs several times
/// on one batch (a shared head, once a pyramid level) weighs each batch once in its observer's range.
/// </summary>
public static class Calibrator
{
    /// <summary>The paper's n_cal.</summary>
    public const int DefaultBatches = 20;

    /// <summary>
    /// Calibrates every activation quantizer of <paramref name="model"/> from the first <paramref name="nCal"/> of
    /// <paramref name="batches"/> (fewer if the sequence is shorter; at least one is required).
    /// <paramref name="forward"/> runs the model on one batch (its result is discarded).
    /// Returns the number of batches used. Throws, naming them, if some activation quantizer saw no data.
    /// </summary>
    public static int Calibrate<TBatch>(Module model, IEnumerable<TBatch> batches, Action<TBatch> forward, int nCal = DefaultBatches)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(nCal);
        var registry = QuantRegistry.Collect(model);
        var acts = registry.Quantizers.Where(q => q.NeedsCalibration).ToList();
        var weights = registry.Weights.ToList();
        var weightsEnabled = weights.Select(w => w.Enabled).ToList();
        bool wasTraining = model.Training;
        int used = 0;
        try
        {
            model.Eval();
            foreach (var w in weights) w.Enabled = false;
            foreach (var a in acts) a.BeginCalibration();
            using (GradMode.NoGrad())
                foreach (var batch in batches)
                {
                    if (used == nCal) break;
                    foreach (var a in acts) a.BeginCalibrationBatch();
                    using (new Tape()) forward(batch); // the tape returns every activation buffer to the pool
                    foreach (var a in acts) a.EndCalibrationBatch();
                    used++;
                }
            if (used == 0) throw new ArgumentException("Calibrate: no calibration batches were given.");
            var missed = acts.Where(a => !a.SawCalibrationData).Select(a => a.Name).ToList();
            if (missed.Count > 0)
                throw new InvalidOperationException(
                    $"Calibrate: {missed.Count} activation quantizer(s) saw no data in {used} batches: {string.Join(", ", missed.Take(5))}{(missed.Count > 5 ? ", …" : "")}.");
            foreach (var a in acts) a.EndCalibration();
        }
        catch
        {
            foreach (var a in acts) a.AbortCalibration();
            throw;
        }
        finally
        {
            for (int i = 0; i < weights.Count; i++) weights[i].Enabled = weightsEnabled[i];
            model.Train(wasTraining);
        }
        return used;
    }
}
