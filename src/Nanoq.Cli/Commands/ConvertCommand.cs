using Nanoq.Cli.Pipeline;

namespace Nanoq.Cli.Commands;

/// <summary><c>nanoq convert</c>: the fine-tuned detector → the integer-only model file, then its evaluation.</summary>
public static class ConvertCommand
{
    public const string Help =
        """
        Usage: nanoq convert [--out DIR] [--bits 4] [--recipe ...] [--no-f] [--no-p] [--no-c] [--no-eval] [--data NAME|DIR]

        Converts the model fine-tuned by nanoq quantize (same recipe options) to the integer-only RetinaNet: weight codes
        (two per byte at <= 4 bits), int32 biases, per-channel Q31 multipliers and shifts, zero points and clamp bounds,
        batch norm folded. Writes DIR/int<K>[-<recipe>].nqm (versioned, checksummed) and, unless --no-eval, evaluates it
        on the val split (detections-int<K>-integer.json).
        """;

    private static readonly HashSet<string> Valued = ["--out", "--bits", "--recipe", "--data", "--gamma", "--n-cal", "--steps", "--freeze-bn-last"];
    private static readonly HashSet<string> Flags = ["--no-f", "--no-p", "--no-c", "--no-eval", "--help", "-h"];

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) =>
        CommandErrors.Run("convert", stderr, () =>
        {
            var cl = new CommandLine(args, Valued, Flags);
            if (cl.Has("--help") || cl.Has("-h")) { stdout.Write(Help); return CommandErrors.Ok; }
            using var run = new RunFolder(cl.Get("--out") ?? Path.Combine("runs", "shapes"));
            run.BeginWriting(stderr);
            var recipe = QuantizeCommand.Recipe(cl);
            var (model, bytes) = IntegerStages.Convert(run, recipe);
            long floatBytes = File.Exists(run.FloatCheckpoint) ? FloatModelBytes(run) : 0;
            stdout.WriteLine($"{run.IntegerModel(recipe)}: {bytes / 1024.0:F1} KiB" +
                             (floatBytes > 0 ? $" (float weights {floatBytes / 1024.0:F1} KiB, ratio 1/{(double)floatBytes / bytes:F1})" : ""));
            if (cl.Has("--no-eval")) return CommandErrors.Ok;
            var data = DataSplits.Resolve(cl.Get("--data") ?? QuantizeCommand.DataOf(run), Path.Combine("runs", "data"), stderr);
            var result = Stages.Evaluate(run, RunFolder.Label(recipe) + "-integer", data, run.LoadModelInfo().Config, model.Detect, stderr);
            stdout.Write(result.Format());
            return CommandErrors.Ok;
        });

    /// <summary>Bytes of the float model's parameters and buffers as float32 (what a float checkpoint of the model holds).</summary>
    public static long FloatModelBytes(RunFolder run) => 4L * Stages.LoadFloat(run).StateDict().Values.Sum(t => (long)t.Size);
}
