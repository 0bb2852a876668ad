using System.Globalization;
using Nanoq.Cli.Pipeline;
using Nanoq.Detection;
using Nanoq.IO;
using Nanoq.Nn.Training;

namespace Nanoq.Cli.Reproduce;

/// <summary>
/// Runs one cell with the library stages the commands use (<see cref="Stages.TrainFloat"/>, <see cref="QuantStages.FineTune"/>,
/// <see cref="DetectorEvaluation"/>), each in the cell's own folder, so a cell's checkpoint resumes a stopped run
/// exactly as <c>nanoq train</c>'s does. Evaluation writes no detections file: a cell keeps its 12 numbers.
/// <para>
/// A plan of sixty trainings should not end at the one that diverges (Faster R-CNN with ResNet-50 at width 0.25 can send
/// its objectness loss to NaN at the main job's LR): a training cell that diverges is marked so in its attempt's folder
/// and tried afresh at half, then a quarter of the learning rate, each attempt in its own folder (<c>lr1</c>,
/// <c>lr0.5</c>, <c>lr0.25</c>), so a rerun skips the marked attempts and resumes the live one. The result records
/// the scale, and the report shows it beside the row.
/// </para>
/// </summary>
/// <param name="finished">the results so far: a fine-tuning cell finds its float model's folder there</param>
public sealed class CellRunner(CellStore store, IReadOnlyDictionary<string, CellResult> finished, DataSplits data, TextWriter log, CancellationToken cancel)
{
    private static readonly float[] LrScales = [1f, 0.5f, 0.25f];

    /// <summary>The float training schedule of a float cell (the main job's, warm-up a fifth of short runs).</summary>
    public static TrainOptions Schedule(FloatCell f) =>
        new() { Steps = f.Steps, Seed = f.Seed, CheckpointEvery = f.CheckpointEvery, WarmupSteps = Math.Min(200, f.Steps / 5) };

    public CellResult Run(CellSpec cell, Func<double> wallSeconds) => cell switch
    {
        FloatCell f => RunFloat(f, wallSeconds),
        QuantCell q => RunQuant(q, wallSeconds),
        RangeCell r => RunRanges(r, wallSeconds),
        _ => throw new ArgumentException($"unknown cell kind {cell.Kind}"),
    };

    private CellResult RunFloat(FloatCell f, Func<double> wall) => WithLrRetries(f, (dir, scale) =>
    {
        var run = new RunFolder(dir);
        var shape = Detectors.Small(f.Detector, 1);
        var config = shape.WithShared(f.Backbone, f.Width, shape.FpnChannels, shape.AnchorSize, f.Data.ImageSize);
        var schedule = Schedule(f);
        var (model, _, _) = Stages.TrainFloat(run, data, config, schedule with { Lr = schedule.Lr * scale }, log, cancel);
        model.Network.Eval();
        return Result(f, Evaluate(model, $"eval {f.Label}", cancel), wall(), [], []);
    });

    private CellResult RunQuant(QuantCell q, Func<double> wall) => WithLrRetries(q, (dir, scale) =>
    {
        Directory.CreateDirectory(dir);
        var recipe = q.Recipe with { LrFactor = q.Recipe.LrFactor * scale };
        string partialPath = Path.Combine(dir, "partial.json");
        var partial = PartialRecord.Load(partialPath);
        var schedule = Schedule(q.Float) with { BatchSize = q.Batch, Seed = q.Seed };
        var probe = q.Probe is null ? null : new BatchNormProbe(q.Probe);
        bool first = true;
        void AfterStep(IDetector model, int step)
        {
            if (first)
            {
                partial.TruncateAfter(step); // on resume: drop what the checkpoint does not hold
                first = false;
            }
            if (probe?.Record(model.Network, step) is double[] entry) partial.Probe.Add(entry);
            bool evaluate = q.EvalEvery > 0 && step % q.EvalEvery == 0 && step < q.Recipe.Steps && partial.Curve.All(p => p.Step != step);
            if (evaluate)
            {
                // Mid-training evaluation: eval mode changes no statistic or range, and it is not interrupted (a Ctrl-C
                // waits for it), so the trainer's checkpoint of this step follows it as usual.
                model.Network.Eval();
                partial.Curve.Add(new CurvePoint(step, Evaluate(model, $"eval {q.Recipe.Name} step {step}", CancellationToken.None)));
                model.Network.Train();
            }
            if (evaluate || step % schedule.CheckpointEvery == 0 || step == q.Recipe.Steps || cancel.IsCancellationRequested)
                partial.Save(partialPath);
        }
        var (tuned, _, _) = QuantStages.FineTune(ModelOf(q.Float), data, recipe, schedule, Path.Combine(dir, "qat.safetensors"), log, cancel, AfterStep);
        var stats = Evaluate(tuned, $"eval {q.Label}", cancel);
        var curve = q.EvalEvery > 0 ? partial.Curve.Where(p => p.Step < q.Recipe.Steps).Append(new CurvePoint(q.Recipe.Steps, stats)).OrderBy(p => p.Step).ToList() : [];
        var series = new Dictionary<string, double[]>();
        if (probe is not null)
        {
            series["step"] = partial.Probe.Select(p => p[0]).ToArray();
            series["beta"] = partial.Probe.Select(p => p[1]).ToArray();
            series["batch_mean"] = partial.Probe.Select(p => p[2]).ToArray();
            series["batch_var"] = partial.Probe.Select(p => p[3]).ToArray();
        }
        return Result(q, stats, wall(), curve, series);
    });

    private CellResult RunRanges(RangeCell r, Func<double> wall)
    {
        var network = r.Float is { } f
            ? Stages.LoadFloat(ModelOf(f)).Network
            : (Nn.Module)Nn.Backbones.DetectionBackbones.Create(r.Backbone!, 1f, new Rng(0));
        var layers = Onnx.WeightRangeRatios.Compute(network);
        var db = layers.SelectMany(l => l.ChannelDb).Where(double.IsFinite).Select(v => Math.Round(v, 3)).ToArray();
        log.WriteLine($"{r.Label}: {db.Length} channels of {layers.Count} conv layers");
        return Result(r, [], wall(), [], new Dictionary<string, double[]> { ["db"] = db });
    }

    /// <summary>The run folder of a finished float cell's model (the attempt that did not diverge).</summary>
    private RunFolder ModelOf(FloatCell f) =>
        finished.TryGetValue(f.Id, out var r) && r.ModelDir is { } rel
            ? new RunFolder(Path.Combine(store.Dir, rel))
            : throw new InvalidOperationException($"{f.Label} ({f.Id}) has not finished; the plan runs it first.");

    /// <summary>
    /// Runs <paramref name="attempt"/>(folder, LR scale) at scale 1, ½, ¼ until one does not diverge; the result
    /// records the scale and the folder (relative to cells/).
    /// </summary>
    private CellResult WithLrRetries(CellSpec cell, Func<string, float, CellResult> attempt)
    {
        foreach (float scale in LrScales)
        {
            string name = "lr" + scale.ToString(CultureInfo.InvariantCulture);
            string dir = Path.Combine(store.WorkDir(cell), name);
            string marker = Path.Combine(dir, "diverged.txt");
            if (File.Exists(marker)) continue;
            try
            {
                return attempt(dir, scale) with { LrScale = scale, ModelDir = Path.Combine(cell.Id, name) };
            }
            catch (TrainingDivergedException e)
            {
                AtomicFile.WriteAllText(marker, e.Message);
                log.WriteLine($"{cell.Label}: diverged at {scale}× the learning rate ({e.Message}); trying a lower one");
            }
        }
        throw new TrainingDivergedException($"{cell.Label} ({cell.Id}) diverged at {string.Join(", ", LrScales)}× the learning rate (see its diverged.txt files).");
    }

    private double[] Evaluate(IDetector model, string label, CancellationToken token)
    {
        var (result, _) = DetectorEvaluation.Evaluate(model.Detect, data.Val, Stages.Transform(model.Config), 8, log, label, token);
        return result.Stats.ToArray();
    }

    private static CellResult Result(CellSpec cell, double[] stats, double wall, List<CurvePoint> curve, Dictionary<string, double[]> series) =>
        new(cell.Id, cell.Kind, cell.Label, cell.Config(), stats, Math.Round(wall, 1), curve, series);
}
