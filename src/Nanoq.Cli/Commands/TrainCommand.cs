using Nanoq.Cli.Pipeline;
using Nanoq.Cli.Terminal;
using Nanoq.Nn.Training;
using Nanoq.Detection;

namespace Nanoq.Cli.Commands;

/// <summary><c>nanoq train</c>: trains the float RetinaNet on a data set and evaluates it.</summary>
public static class TrainCommand
{
    public const string Help =
        """
        Usage: nanoq train [--data shapes|fashion-det|DIR] [--out DIR] [options]

        Trains a float RetinaNet (FPN P3-P7, focal loss) and evaluates it on the val split. Ctrl-C writes a checkpoint;
        the same command resumes from it.

          --data NAME|DIR     bundled data set (written on first use under runs/data) or a folder with
                              train/{images,instances.json} and val/{images,instances.json}   (default shapes)
          --out DIR           run folder (default runs/<data name>)
          --steps N           SGD steps (default 3000)          --batch N     images a step (default 8)
          --lr X              base learning rate (default 0.02; warm-up 200 steps, x0.1 at 70% and 90%)
          --backbone NAME     resnet18|resnet34|resnet50|mobilenet_v2 (default resnet18)
          --width X           backbone channel multiplier (default 0.25: ResNet-18 at 16 channels)
          --fpn-channels N    (default 64)     --head-convs N (default 2; the paper uses 4)
          --anchor-size N     anchor size on P3 in pixels (default 16)
          --input-size N      shorter image side (default 160)
          --seed N            (default 0)      --checkpoint-every N (default 250)
          --skip-bad-images   log and skip training images that fail to decode (default: stop naming the file)
        """;

    private static readonly HashSet<string> Valued = ["--data", "--out", "--steps", "--batch", "--lr", "--backbone", "--width",
        "--fpn-channels", "--head-convs", "--anchor-size", "--input-size", "--seed", "--checkpoint-every"];

    private static readonly HashSet<string> Flags = ["--skip-bad-images", "--help", "-h"];

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) =>
        CommandErrors.Run("train", stderr, () =>
        {
            var cl = new CommandLine(args, Valued, Flags);
            if (cl.Has("--help") || cl.Has("-h")) { stdout.Write(Help); return CommandErrors.Ok; }
            string dataName = cl.Get("--data") ?? "shapes";
            using var run = new RunFolder(cl.Get("--out") ?? Path.Combine("runs", Path.GetFileName(Path.TrimEndingDirectorySeparator(dataName))));
            run.BeginWriting(stderr);
            var config = ModelOptions(cl);
            var options = Schedule(cl);
            using var interrupt = new Interrupt();
            var data = DataSplits.Resolve(dataName, Path.Combine("runs", "data"), stderr, seed: options.Seed) with { SkipBadImages = cl.Has("--skip-bad-images") };
            var (model, _, time) = Stages.TrainFloat(run, data, config, options, stderr, interrupt.Token);
            model.Eval();
            var result = Stages.Evaluate(run, "float", data, model.Config, model.Detect, stderr);
            stdout.WriteLine($"float RetinaNet trained in {time.TotalMinutes:F1} min; {run.FloatCheckpoint}");
            stdout.Write(result.Format());
            return CommandErrors.Ok;
        });

    internal static RetinaNetConfig ModelOptions(CommandLine cl)
    {
        var c = RetinaNetConfig.Small(1);
        string backbone = cl.Get("--backbone") ?? c.Backbone;
        if (backbone is not ("resnet18" or "resnet34" or "resnet50" or "mobilenet_v2"))
            throw new UsageException($"--backbone must be resnet18, resnet34, resnet50 or mobilenet_v2, got '{backbone}'");
        return c with
        {
            Backbone = backbone,
            BackboneWidth = cl.Float("--width", c.BackboneWidth, 0.05f, 4f),
            FpnChannels = cl.Int("--fpn-channels", c.FpnChannels, 1, 1024),
            HeadConvs = cl.Int("--head-convs", c.HeadConvs, 0, 8),
            AnchorSize = cl.Int("--anchor-size", c.AnchorSize, 1, 1024),
            InputSize = cl.Int("--input-size", c.InputSize, 32, 2048),
        };
    }

    internal static TrainOptions Schedule(CommandLine cl, int defaultSteps = 3000)
    {
        var o = new TrainOptions { Steps = defaultSteps };
        return o with
        {
            Steps = cl.Int("--steps", o.Steps, 0, 10_000_000),
            BatchSize = cl.Int("--batch", o.BatchSize, 1, 1024),
            Lr = cl.Float("--lr", o.Lr, 1e-8f, 10f),
            Seed = cl.ULong("--seed", o.Seed),
            CheckpointEvery = cl.Int("--checkpoint-every", o.CheckpointEvery, 1, 10_000_000),
            WarmupSteps = Math.Min(o.WarmupSteps, cl.Int("--steps", o.Steps, 0, 10_000_000) / 5),
            FlipProbability = o.FlipProbability,
        };
    }
}
