using Nanoq.Cli.Pipeline;
using Nanoq.Cli.Terminal;
using Nanoq.Nn.Training;
using Nanoq.Detection;

namespace Nanoq.Cli.Commands;

/// <summary><c>nanoq train</c>: trains a float detector (RetinaNet or Faster R-CNN) on a data set and evaluates it.</summary>
public static class TrainCommand
{
    internal static readonly CliCommand Definition = new("train",
        """
        Usage: nanoq train [--data shapes|fashion-det|DIR] [--out DIR] [options]
        """,
        """
        Trains a float detector and evaluates it on the val split: RetinaNet (FPN P3-P7, focal loss; the default) or
        Faster R-CNN (FPN P2-P6, RPN, RoIAlign, two-fc box head; --detector faster-rcnn). Ctrl-C writes a checkpoint;
        the same command resumes from it.
        """,
        spec =>
        {
            spec.Text("--data", "NAME|DIR", "bundled data set (written on first use under runs/data) or a folder: train/{images,instances.json} and val/{images,instances.json}, or COCO's annotations/instances_train*.json with train*/ (same for val) (default shapes)");
            DataFileOptions.Declare(spec);
            spec.Text("--out", "DIR", "run folder (default runs/<data name>)");
            DeclareSchedule(spec);
            DeclareModel(spec);
            spec.Flag("--skip-bad-images", "log and skip training images that fail to decode (default: stop naming the file)");
        },
        (cl, stdout, stderr) =>
        {
            string dataName = cl.Get("--data") ?? "shapes";
            using var run = new RunFolder(cl.Get("--out") ?? Path.Combine("runs", Path.GetFileName(Path.TrimEndingDirectorySeparator(dataName))));
            run.BeginWriting(stderr);
            var config = ModelOptions(cl);
            var options = Schedule(cl);
            using var interrupt = new Interrupt();
            var data = (DataFileOptions.Resolve(cl) ?? DataSplits.Resolve(dataName, Path.Combine("runs", "data"), stderr, seed: options.Seed)) with { SkipBadImages = cl.Has("--skip-bad-images") };
            var (model, _, time) = Stages.TrainFloat(run, data, config, options, stderr, interrupt.Token);
            model.Network.Eval();
            var result = Stages.Evaluate(run, "float", data, model.Config, model.Detect, stderr, interrupt.Token);
            string png = Reports.LossCurve.WritePng(Path.ChangeExtension(run.FloatCheckpoint, ".csv"), "float training", Reports.LossCurve.LossName(model.Kind));
            stdout.WriteLine($"float {model.Kind} trained in {time.TotalMinutes:F1} min; {run.FloatCheckpoint}; loss curve {png}");
            stdout.Write(result.Format());
            return CommandErrors.Ok;
        });

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) => Definition.Run(args, stdout, stderr);

    /// <summary>The training schedule's options (read by <see cref="Schedule"/>).</summary>
    internal static void DeclareSchedule(CliSpec spec)
    {
        spec.Int("--steps", "N", "SGD steps (default 3000)", 0, 10_000_000);
        spec.Int("--batch", "N", "images a step (default 8)", 1, 1024);
        spec.Float("--lr", "X", "base learning rate (default 0.02; warm-up 200 steps, x0.1 at 70% and 90%)", 1e-8f, 10f);
        spec.ULong("--seed", "N", "random seed (default 0)");
        spec.Int("--checkpoint-every", "N", "steps between checkpoints (default 250)", 1, 10_000_000);
    }

    /// <summary>The model's options (read by <see cref="ModelOptions"/>).</summary>
    internal static void DeclareModel(CliSpec spec)
    {
        spec.Text("--detector", "NAME", "retinanet (default) or faster-rcnn");
        spec.Text("--backbone", "NAME", "resnet18, resnet34, resnet50, mobilenet_v2 (default resnet18; width from --width), resnet18-imagenet (the ImageNet-trained ResNet-18 of NuGet's Microsoft.ML.DnnImageFeaturizer.ResNet18, full width) or onnx:FILE (any plain CNN graph; C2-C5 found by stride); scratch:NAME is NAME untrained (torchvision's initialization)");
        spec.Float("--width", "X", "backbone channel multiplier (default 0.25: ResNet-18 at 16 channels)", 0.05f, 4f);
        spec.Int("--fpn-channels", "N", "FPN channels (default 64)", 1, 1024);
        spec.Int("--head-convs", "N", "RetinaNet: convolutions of each head (default 2; the paper uses 4)", 0, 8);
        spec.Int("--box-head", "N", "Faster R-CNN: width of the box head's two fc layers (default 256; torchvision's 1024)", 1, 8192);
        spec.Int("--anchor-size", "N", "anchor size on the finest level, P3 (RetinaNet) or P2 (Faster R-CNN), in pixels (default 16)", 1, 1024);
        spec.Int("--input-size", "N", "shorter image side (default 160)", 32, 2048);
    }

    /// <summary>
    /// The detector the model options describe: the family's CPU configuration (<see cref="Detectors.Small"/>) with the
    /// options given; an option of the other family is refused, naming it.
    /// </summary>
    internal static IDetectorConfig ModelOptions(CommandArgs cl, int defaultInputSize = 160)
    {
        string kind = cl.Get("--detector") ?? "retinanet";
        if (!Detectors.Kinds.Contains(kind))
            throw new UsageException($"--detector must be one of {string.Join(", ", Detectors.Kinds)}, got '{kind}'");
        string? backbone = cl.Get("--backbone");
        if (backbone is not null && !Nn.Backbones.DetectionBackbones.IsKnown(backbone))
            throw new UsageException($"--backbone must be one of {Nn.Backbones.DetectionBackbones.Known}, got '{backbone}'");
        CheckBackboneFile(backbone);
        var c = Detectors.Small(kind, 1);
        c = c.WithShared(backbone ?? c.Backbone, cl.Float("--width", c.BackboneWidth), cl.Int("--fpn-channels", c.FpnChannels),
                         cl.Int("--anchor-size", c.AnchorSize), cl.Int("--input-size", defaultInputSize));
        // Each family's own options; the other family's are refused, naming them.
        switch (c)
        {
            case RetinaNetConfig r:
                if (cl.Has("--box-head")) throw new UsageException("--box-head is Faster R-CNN's (add --detector faster-rcnn); RetinaNet's heads are sized by --head-convs");
                return r with { HeadConvs = cl.Int("--head-convs", r.HeadConvs) };
            case FasterRcnnConfig f:
                if (cl.Has("--head-convs")) throw new UsageException("--head-convs is RetinaNet's; Faster R-CNN's box head is sized by --box-head");
                return f with { RepresentationSize = cl.Int("--box-head", f.RepresentationSize) };
            default:
                throw new UsageException($"--detector '{kind}' has no command-line configuration");
        }
    }

    /// <summary>An onnx:FILE backbone (also as scratch:onnx:FILE) names a file that exists.</summary>
    internal static void CheckBackboneFile(string? backbone)
    {
        string? b = backbone?.StartsWith(Nn.Backbones.DetectionBackbones.Scratch, StringComparison.Ordinal) == true
            ? backbone[Nn.Backbones.DetectionBackbones.Scratch.Length..] : backbone;
        if (b is not null && b.StartsWith("onnx:", StringComparison.Ordinal) && !File.Exists(b["onnx:".Length..]))
            throw new UsageException($"--backbone {backbone}: no such file");
    }

    internal static TrainOptions Schedule(CommandArgs cl, int defaultSteps = 3000)
    {
        var o = new TrainOptions { Steps = defaultSteps };
        return o with
        {
            Steps = cl.Int("--steps", o.Steps),
            BatchSize = cl.Int("--batch", o.BatchSize),
            Lr = cl.Float("--lr", o.Lr),
            Seed = cl.ULong("--seed", o.Seed),
            CheckpointEvery = cl.Int("--checkpoint-every", o.CheckpointEvery),
            WarmupSteps = Math.Min(o.WarmupSteps, cl.Int("--steps", o.Steps) / 5),
            FlipProbability = o.FlipProbability,
        };
    }
}
