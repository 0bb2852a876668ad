using System.Text.Json.Nodes;
using Nanoq.Cli.Pipeline;
using Nanoq.Detection;
using Nanoq.Nn.Training;

namespace Nanoq.Cli.Reproduce;

/// <summary>
/// Runs one cell with the library stages the commands use (<see cref="Stages.TrainFloat"/>, <see cref="QuantStages.FineTune"/>,
/// <see cref="DetectorEvaluation"/>), each in the cell's own folder, so a cell's checkpoint resumes a stopped run
/// exactly as <c>nanoq train</c>'s does. Evaluation writes no detections file: a cell keeps its 12 numbers.
/// </summary>
public sealed class CellRunner(CellStore store, DataSplits data, TextWriter log, CancellationToken cancel)
{
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

    private CellResult RunFloat(FloatCell f, Func<double> wall)
    {
        var run = new RunFolder(store.WorkDir(f));
        var shape = Detectors.Small(f.Detector, 1);
        var config = shape.WithShared(f.Backbone, f.Width, shape.FpnChannels, shape.AnchorSize, f.Data.ImageSize);
        var (model, _, _) = Stages.TrainFloat(run, data, config, Schedule(f), log, cancel);
        model.Network.Eval();
        return Result(f, Evaluate(model, $"eval {f.Label}", cancel), wall(), [], []);
    }

    private CellResult RunQuant(QuantCell q, Func<double> wall)
    {
        string dir = store.WorkDir(q);
        Directory.CreateDirectory(dir);
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
        var floatRun = new RunFolder(store.WorkDir(q.Float));
        var (tuned, _, _) = QuantStages.FineTune(floatRun, data, q.Recipe, schedule, Path.Combine(dir, "qat.safetensors"), log, cancel, AfterStep);
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
    }

    private CellResult RunRanges(RangeCell r, Func<double> wall)
    {
        var network = r.Float is { } f
            ? Stages.LoadFloat(new RunFolder(store.WorkDir(f))).Network
            : (Nn.Module)Nn.Backbones.DetectionBackbones.Create(r.Backbone!, 1f, new Rng(0));
        var layers = Onnx.WeightRangeRatios.Compute(network);
        var db = layers.SelectMany(l => l.ChannelDb).Where(double.IsFinite).Select(v => Math.Round(v, 3)).ToArray();
        log.WriteLine($"{r.Label}: {db.Length} channels of {layers.Count} conv layers");
        return Result(r, [], wall(), [], new Dictionary<string, double[]> { ["db"] = db });
    }

    private double[] Evaluate(IDetector model, string label, CancellationToken token)
    {
        var (result, _) = DetectorEvaluation.Evaluate(model.Detect, data.Val, Stages.Transform(model.Config), 8, log, label, token);
        return result.Stats.ToArray();
    }

    private static CellResult Result(CellSpec cell, double[] stats, double wall, List<CurvePoint> curve, Dictionary<string, double[]> series) =>
        new(cell.Id, cell.Kind, cell.Label, cell.Config(), stats, Math.Round(wall, 1), curve, series);
}
