using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Nanoq.Cli.Pipeline;
using Nanoq.Cli.Reports;
using Nanoq.Cli.Terminal;
using Nanoq.Coco;
using Nanoq.Coco.Evaluation;
using Nanoq.Coco.Imaging;
using Nanoq.IO;
using Nanoq.Quant;
using Nanoq.Detection;

namespace Nanoq.Cli.Commands;

/// <summary>
/// <c>nanoq run</c>, the main job: the paper's whole pipeline on one data set — float detector training, percentile
/// calibration, FQN k-bit fine-tuning, conversion to the integer-only model — with every model evaluated by COCO
/// metrics and a Table-1 style summary. Each stage checkpoints; rerunning the command resumes where it stopped.
/// </summary>
public static class RunCommand
{
    internal static readonly CliCommand Definition = new("run",
        """
        Usage: nanoq run [--data shapes|fashion-det|DIR] [--out DIR] [--quick] [--steps N] [--qat-steps N] [--bits K] [--seed N]
                         [--lr X] [--batch N] [--checkpoint-every N] [--skip-bad-images]
                         [--detector retinanet|faster-rcnn] [--backbone NAME] [model options of nanoq train]
        """,
        """
        The main job: train a float detector (RetinaNet by default, or Faster R-CNN), calibrate, fine-tune it with FQN
        (F+P+C) at K bits (default 4), convert it to the integer-only model, evaluate all three on the val split and
        print the table. Everything lands in the run folder (default runs/<data>): checkpoints, loss curves (.csv,
        -loss.png), detections json, preview images with boxes, and summary.json (the 12 COCO numbers of each model and
        the time of each stage).
        """,
        spec =>
        {
            spec.Text("--data", "NAME|DIR", "shapes (default; 3000 train / 500 val images of 160 px, written on first use), fashion-det or a COCO folder (as for nanoq train)");
            DataFileOptions.Declare(spec);
            spec.Text("--out", "DIR", "the run folder (default runs/<data>, runs/<data>-quick with --quick)");
            spec.Flag("--quick", "a tiny version (about a minute): 160 training images, 40 steps, 10 fine-tuning steps");
            spec.Int("--steps", "N", "float training steps (default 3000, Faster R-CNN 2000: each of its steps costs ≈ 1.5× RetinaNet's; 40 with --quick)", 0, 10_000_000);
            spec.Int("--qat-steps", "N", "fine-tuning steps (default 1500, Faster R-CNN 1000; 10 with --quick)", 0, 10_000_000);
            spec.Int("--bits", "K", "2..8 (default 4)", 2, 8);
            TrainCommand.DeclareSchedule(spec);
            TrainCommand.DeclareModel(spec);
            spec.Text("--cache", "DIR", "where bundled data sets are written (default runs/data)");
            spec.Flag("--skip-bad-images", "as for nanoq train");
        },
        (cl, stdout, stderr) =>
        {
            bool quick = cl.Has("--quick");
            string dataName = cl.Get("--data") ?? "shapes";
            string name = Path.GetFileName(Path.TrimEndingDirectorySeparator(dataName)) + (quick ? "-quick" : "");
            using var run = new RunFolder(cl.Get("--out") ?? Path.Combine("runs", name));
            run.BeginWriting(stderr);
            int bits = cl.Int("--bits", 4);
            // The training options of nanoq train (a diverged run advises --lr; run takes it too).
            // Faster R-CNN's defaults keep the whole job within 20 minutes on two cores, as RetinaNet's keep it within 10.
            bool twoStage = cl.Get("--detector") == "faster-rcnn";
            var schedule = TrainCommand.Schedule(cl, defaultSteps: quick ? 40 : twoStage ? 2000 : 3000);
            if (schedule.Steps < 1) throw new UsageException("--steps must be at least 1");
            var recipe = QuantRecipe.Fqn(bits) with { Steps = cl.Int("--qat-steps", quick ? 10 : twoStage ? 1000 : 1500) };
            if (quick) recipe = recipe with { CalibrationBatches = 4 };
            var config = TrainCommand.ModelOptions(cl, defaultInputSize: quick ? 128 : 160);
            var times = new Dictionary<string, double>();
            var clock = Stopwatch.StartNew();
            using var interrupt = new Interrupt();

            // A folder written by nanoq import holds its float model already: run's later stages start from it.
            var importedInfo = File.Exists(run.ModelJson) && File.Exists(run.FloatCheckpoint) && run.LoadModelInfo() is { CategoryIds: not null } i ? i : null;
            bool imported = importedInfo is not null;
            string cache = cl.Get("--cache") ?? Path.Combine("runs", "data");
            var data = imported ? QuantizeCommand.DataFor(run, cl, stderr, schedule.Seed) : DataFileOptions.Resolve(cl) ?? (quick
                ? DataSplits.Resolve(dataName, cache, stderr, trainImages: 160, valImages: 40, imageSize: 128, seed: schedule.Seed)
                : DataSplits.Resolve(dataName, cache, stderr, seed: schedule.Seed));
            data = data with { SkipBadImages = cl.Has("--skip-bad-images") };
            times["data"] = clock.Elapsed.TotalSeconds;
            stderr.WriteLine($"run folder {run.Dir}; data {data.Description}");

            var t = Stopwatch.StartNew();
            if (imported) stderr.WriteLine($"{run.ModelJson}: an imported model ({importedInfo!.Config.Describe()}); no float training");
            var floatModel = imported ? Stages.LoadFloat(run) : Stages.TrainFloat(run, data, config, schedule, stderr, interrupt.Token).Model;
            times["train_float"] = t.Elapsed.TotalSeconds;
            floatModel.Network.Eval();
            t.Restart();
            var floatResult = Stages.Evaluate(run, "float", data, floatModel.Config, floatModel.Detect, stderr, interrupt.Token);
            times["eval_float"] = t.Elapsed.TotalSeconds;

            t.Restart();
            string label = RunFolder.Label(recipe);
            var (qModel, registry, _) = QuantStages.FineTune(run, data, recipe, schedule, run.QuantCheckpoint(recipe), stderr, interrupt.Token);
            times["calibrate_finetune"] = t.Elapsed.TotalSeconds;
            t.Restart();
            var qResult = Stages.Evaluate(run, label, data, qModel.Config, qModel.Detect, stderr, interrupt.Token);
            times["eval_fake_quant"] = t.Elapsed.TotalSeconds;

            t.Restart();
            var (intModel, intBytes) = IntegerStages.Convert(run, recipe);
            times["convert"] = t.Elapsed.TotalSeconds;
            t.Restart();
            var intResult = Stages.Evaluate(run, label + "-integer", data, floatModel.Config, intModel.Detect, stderr, interrupt.Token);
            times["eval_integer"] = t.Elapsed.TotalSeconds;

            var rows = new List<(string, CocoStats)>
            {
                ("FP32", floatResult.Stats), ($"INT{bits} fake-quant", qResult.Stats), ($"INT{bits} integer-only", intResult.Stats),
            };
            var results = new JsonObject
            {
                ["float"] = Stats(floatResult.Stats),
                ["fake_quant"] = Stats(qResult.Stats),
                ["integer"] = Stats(intResult.Stats),
            };

            WriteReports(run, data, label, run.QuantCheckpoint(recipe), floatModel, qModel);
            times["total"] = clock.Elapsed.TotalSeconds;
            var summary = new JsonObject
            {
                ["data"] = data.Description,
                ["detector"] = floatModel.Kind,
                ["config"] = JsonNode.Parse(floatModel.ConfigJson),
                ["recipe"] = recipe.ToString(),
                ["quantizers"] = registry.Count,
                ["model_bytes"] = new JsonObject { ["float32"] = ConvertCommand.FloatModelBytes(run), ["integer_file"] = intBytes },
                ["results"] = results,
                ["stage_seconds"] = JsonSerializer.SerializeToNode(times.ToDictionary(kv => kv.Key, kv => Math.Round(kv.Value, 1))),
                ["peak_rss_mib"] = Math.Round(Bench.BenchCommand.PeakRssMiB(), 0),
                ["machine"] = $"{Environment.ProcessorCount} threads, {Environment.OSVersion}, .NET {Environment.Version}",
            };
            AtomicFile.WriteAllText(run.Summary, summary.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));

            // The width multiplier sizes native backbones only; an imported one (resnet18-imagenet, onnx:FILE) has its own.
            var c = floatModel.Config;
            string width = Nn.Backbones.DetectionBackbones.Names.Contains(c.Backbone) ? $" x{c.BackboneWidth}" : "";
            stdout.WriteLine($"{Title(floatModel.Kind)} ({c.Backbone}{width}, {c.InputSize} px) on {data.Description}");
            ResultsTable.Write(stdout, rows);
            stdout.WriteLine("stage times (s): " + string.Join(", ", times.Select(kv => $"{kv.Key} {kv.Value.ToString("F0", CultureInfo.InvariantCulture)}")));
            stdout.WriteLine($"summary: {run.Summary}");
            return CommandErrors.Ok;
        },
        "Ctrl-C (or SIGTERM) writes a checkpoint; the same command resumes.");

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) => Definition.Run(args, stdout, stderr);

    /// <summary>A detector family as the paper writes it.</summary>
    internal static string Title(string kind) => kind switch { "retinanet" => "RetinaNet", "faster-rcnn" => "Faster R-CNN", _ => kind };

    private static JsonObject Stats(CocoStats s)
    {
        var o = new JsonObject();
        var a = s.ToArray();
        for (int i = 0; i < a.Length; i++) o[CocoStats.Keys[i]] = Math.Round(a[i], 4);
        return o;
    }

    /// <summary>How much larger than the val image a preview PNG is drawn.</summary>
    public const int PreviewScale = 3;

    /// <summary>Loss curves as PNG (the CSVs beside the checkpoints hold the numbers), and preview images (3x) of the first val images with each model's boxes, class names and scores.</summary>
    private static void WriteReports(RunFolder run, DataSplits data, string qLabel, string qCheckpoint, Detection.IDetector floatModel, Detection.IDetector qModel)
    {
        LossCurve.WritePng(Path.ChangeExtension(run.FloatCheckpoint, ".csv"), "float training", LossCurve.LossName(floatModel.Kind));
        LossCurve.WritePng(Path.ChangeExtension(qCheckpoint, ".csv"), $"{qLabel} fine-tuning", LossCurve.LossName(floatModel.Kind));

        var transform = Stages.Transform(floatModel.Config);
        var classNames = run.LoadModelInfo().ClassNames;
        for (int i = 0; i < Math.Min(4, data.Val.Count); i++)
        {
            var sample = data.Val.Load(i, transform);
            var batch = Coco.Data.Batcher.Collate([sample]);
            var image = data.Val.LoadImage(i);
            foreach (var (label, model) in new[] { ("float", floatModel), (qLabel, qModel) })
            {
                var det = model.Detect(Tensor.FromArray(batch.Data, 1, 3, batch.H, batch.W), [(sample.Height, sample.Width)])[0];
                var boxes = Enumerable.Range(0, det.Count).Where(j => det.Scores[j] >= 0.5f).Select(j =>
                    (sample.ToOriginal.Map(new XyxyBox(det.Boxes[4 * j], det.Boxes[4 * j + 1], det.Boxes[4 * j + 2], det.Boxes[4 * j + 3])), det.Labels[j], det.Scores[j]));
                // 3x nearest-neighbour, so that the boxes and their labels (class, score) are readable.
                var png = ImageCodec.EncodePng(BoxPainter.Draw(image, boxes, classNames, scale: PreviewScale));
                AtomicFile.Write(Path.Combine(run.Dir, $"preview-{i}-{label}.png"), s => s.Write(png));
            }
        }
    }
}
