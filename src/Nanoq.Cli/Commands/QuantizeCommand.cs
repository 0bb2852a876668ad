using Nanoq.Detection;
using Nanoq.Cli.Pipeline;
using Nanoq.Nn.Training;
using Nanoq.Cli.Terminal;
using Nanoq.Quant;

namespace Nanoq.Cli.Commands;

/// <summary><c>nanoq quantize</c>: calibrate and fine-tune a trained float detector with a quantization recipe, then evaluate it.</summary>
public static class QuantizeCommand
{
    internal static readonly CliCommand Definition = new("quantize",
        """
        Usage: nanoq quantize [--out DIR] [--bits 4] [--recipe fqn|baseline|lsq|dorefa|xnor] [--no-f] [--no-p] [--no-c] [options]
        """,
        """
        Quantization-aware fine-tuning of the float detector in DIR (trained by nanoq train): every weight and every
        activation, from the normalized input to the head outputs, k-bit uniform (asymmetric, zero point aligned).
        FQN = F + P + C:
          F  fold batch norm with its frozen running statistics (--no-f: fold batch statistics, Jacob et al.)
          P  activation ranges from percentiles on n_cal calibration batches (--no-p: EMA of min/max)
          C  per-channel weight ranges (--no-c: per-tensor)
        --recipe baseline is --no-f --no-p --no-c; dorefa and xnor are the Table 5 baselines (BN folded, all ops quantized);
        lsq learns every step size with the network (Esser et al. 2020), starting from FQN's grids (F and C switch as for fqn).
        Writes DIR/int<K>[-<recipe>].safetensors (+ .csv and -loss.png loss curve) and detections-int<K>….json. Ctrl-C checkpoints; rerun to resume.
        """,
        spec =>
        {
            spec.Text("--out", "DIR", "the run folder (default runs/shapes)");
            spec.Text("--data", "NAME|DIR", "as for nanoq train (default: the data the model was trained on if bundled, else shapes)");
            DataFileOptions.Declare(spec);
            DeclareRecipe(spec, fineTuning: true);
            TrainCommand.DeclareSchedule(spec);
            spec.Flag("--skip-bad-images", "as for nanoq train");
        },
        (cl, stdout, stderr) =>
        {
            using var run = OpenRun(cl);
            run.BeginWriting(stderr);
            var recipe = Recipe(cl);
            var schedule = TrainCommand.Schedule(cl);
            run.LoadModelInfo(); // fails early, saying to train first, before any data set is written
            if (!File.Exists(run.FloatCheckpoint))
                throw new FileNotFoundException($"{run.FloatCheckpoint} not found: train the float model first (nanoq train --out {run.Dir})");
            using var interrupt = new Interrupt();
            var data = DataFor(run, cl, stderr, schedule.Seed) with { SkipBadImages = cl.Has("--skip-bad-images") };
            var (model, registry, time) = QuantStages.FineTune(run, data, recipe, schedule, run.QuantCheckpoint(recipe), stderr, interrupt.Token);
            string label = RunFolder.Label(recipe);
            var result = Stages.Evaluate(run, label, data, model.Config, model.Detect, stderr, interrupt.Token);
            Reports.LossCurve.WritePng(Path.ChangeExtension(run.QuantCheckpoint(recipe), ".csv"), $"{label} fine-tuning", Reports.LossCurve.LossName(model.Kind));
            stdout.WriteLine($"{recipe} — {registry.Count} quantizers, fine-tuned in {time.TotalMinutes:F1} min; {run.QuantCheckpoint(recipe)}");
            stdout.Write(result.Format());
            return CommandErrors.Ok;
        });

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) => Definition.Run(args, stdout, stderr);

    /// <summary>The recipe options (read by <see cref="Recipe"/>); <paramref name="fineTuning"/> adds those of calibration and fine-tuning.</summary>
    internal static void DeclareRecipe(CliSpec spec, bool fineTuning = false)
    {
        spec.Int("--bits", "K", "bits of weights and activations, 2..8 (default 4)", 2, 8);
        spec.Text("--recipe", "NAME", "fqn, baseline, lsq, dorefa or xnor (default fqn)");
        spec.Flag("--no-f", "without F: fold batch statistics (Jacob et al.)");
        spec.Flag("--no-p", "without P: activation ranges from an EMA of min/max");
        spec.Flag("--no-c", "without C: per-tensor weight ranges");
        DeclareDetector(spec);
        if (!fineTuning) return;
        spec.Double("--gamma", "X", "percentile γ of the calibration (default 0.999)", 0.5, 1.0);
        spec.Int("--n-cal", "N", "calibration batches (default 20)", 1, 100_000);
        spec.Int("--steps", "N", "fine-tuning steps (default 600) at 0.1x the training LR", 0, 10_000_000);
        spec.Int("--freeze-bn-last", "N", "without F: freeze BN statistics for the last N steps (the whitepaper's schedule)", 0, 10_000_000);
    }

    /// <summary>
    /// <c>--detector</c> on the commands after training: the run folder's model.json names the detector, so the option is
    /// only a check — given, it must match (<see cref="OpenRun"/>).
    /// </summary>
    internal static void DeclareDetector(CliSpec spec) =>
        spec.Text("--detector", "NAME", "retinanet or faster-rcnn: the run folder's detector (model.json records it; given, it must match)");

    /// <summary>The run folder of <c>--out</c> (default runs/shapes), its detector checked against <c>--detector</c> when given.</summary>
    internal static RunFolder OpenRun(CommandArgs cl)
    {
        var run = new RunFolder(cl.Get("--out") ?? Path.Combine("runs", "shapes"));
        if (cl.Get("--detector") is string asked)
        {
            if (!Detection.Detectors.Kinds.Contains(asked))
                throw new UsageException($"--detector must be one of {string.Join(", ", Detection.Detectors.Kinds)}, got '{asked}'");
            if (File.Exists(run.ModelJson) && run.LoadModelInfo().Detector is var held && held != asked)
                throw new UsageException($"--detector {asked}: {run.Dir} holds a {held} ({run.ModelJson})");
        }
        return run;
    }

    /// <summary>The data a run was trained on, when it is a bundled name (model.json records it), else shapes.</summary>
    /// <summary>
    /// The data of a command on an existing run: the explicit files, else --data, else the data the run was trained on;
    /// labelled as the run's model labels (<see cref="DataSplits.ForModel"/>).
    /// </summary>
    internal static DataSplits DataFor(RunFolder run, CommandArgs cl, TextWriter stderr, ulong seed = 0) =>
        (DataFileOptions.Resolve(cl) ?? DataSplits.Resolve(cl.Get("--data") ?? DataOf(run), Path.Combine("runs", "data"), stderr, seed: seed))
        .ForModel(run.LoadModelInfo());

    internal static string DataOf(RunFolder run)
    {
        if (!File.Exists(run.ModelJson)) return "shapes";
        string d = run.LoadModelInfo().Data;
        if (d.Length == 0) throw new UsageException($"{run.ModelJson} names no data set (an imported model): give --data DIR or the --train-*/--val-* files");
        string name = d.Split(' ')[0];
        return Coco.Datasets.BundledDatasets.Names.Contains(name) ? name : d;
    }

    internal static QuantRecipe Recipe(CommandArgs cl)
    {
        int bits = cl.Int("--bits", 4);
        string kind = cl.Get("--recipe") ?? "fqn";
        var r = kind switch
        {
            "fqn" => QuantRecipe.Fqn(bits),
            "baseline" => QuantRecipe.Ablation(bits)[0],
            "dorefa" => QuantRecipe.DoReFa(bits),
            "xnor" => QuantRecipe.Xnor(),
            "lsq" => QuantRecipe.Lsq(bits),
            _ => throw new UsageException($"--recipe must be fqn, baseline, lsq, dorefa or xnor, got '{kind}'"),
        };
        bool f = r.F && !cl.Has("--no-f"), p = r.P && !cl.Has("--no-p"), c = r.C && !cl.Has("--no-c");
        if (f != r.F || p != r.P || c != r.C)
        {
            string name = string.Join("+", new[] { f ? "F" : null, p ? "P" : null, c ? "C" : null }.Where(x => x is not null));
            r = r with { F = f, P = p, C = c, Name = r.Scheme == QuantScheme.Lsq ? "LSQ-" + (name.Length == 0 ? "none" : name) : name.Length == 0 ? "baseline" : name };
        }
        int? freeze = cl.Int("--freeze-bn-last");
        return (r with
        {
            Gamma = cl.Double("--gamma", r.Gamma),
            CalibrationBatches = cl.Int("--n-cal", r.CalibrationBatches),
            Steps = cl.Int("--steps", 600),
            FreezeBnLastSteps = freeze,
        }).Validated();
    }
}
