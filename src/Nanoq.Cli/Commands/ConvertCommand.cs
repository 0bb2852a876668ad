using Nanoq.Cli.Pipeline;

namespace Nanoq.Cli.Commands;

/// <summary><c>nanoq convert</c>: the fine-tuned detector → the integer-only model file, then its evaluation.</summary>
public static class ConvertCommand
{
    internal static readonly CliCommand Definition = new("convert",
        """
        Usage: nanoq convert [--out DIR] [--bits 4] [--recipe ...] [--no-f] [--no-p] [--no-c] [--no-eval] [--data NAME|DIR]
                             [--rounding double|single]
        """,
        """
        Converts the model fine-tuned by nanoq quantize (same recipe options) to the integer-only detector: weight codes
        (two per byte at <= 4 bits), int32 biases, per-channel Q31 multipliers and shifts, zero points and clamp bounds,
        batch norm folded. Writes DIR/int<K>[-<recipe>].nqm (versioned, checksummed) and, unless --no-eval, evaluates it
        on the val split (detections-int<K>-integer.json).
        """,
        spec =>
        {
            spec.Text("--out", "DIR", "the run folder (default runs/shapes)");
            QuantizeCommand.DeclareRecipe(spec, fineTuning: true);
            spec.Flag("--no-eval", "write the model file only");
            spec.Text("--rounding", "KIND", "requantization rounding: double (gemmlowp's, the default) or single (TFLite's TFLITE_SINGLE_ROUNDING)");
            spec.Text("--data", "NAME|DIR", "as for nanoq quantize");
            DataFileOptions.Declare(spec);
        },
        (cl, stdout, stderr) =>
        {
            using var run = QuantizeCommand.OpenRun(cl);
            run.BeginWriting(stderr);
            var recipe = QuantizeCommand.Recipe(cl);
            var rounding = cl.Get("--rounding") switch
            {
                null or "double" => Kernels.Integer.RequantRounding.Double,
                "single" => Kernels.Integer.RequantRounding.Single,
                var other => throw new UsageException($"--rounding must be double or single, got '{other}'"),
            };
            var (model, bytes) = IntegerStages.Convert(run, recipe, rounding);
            long floatBytes = File.Exists(run.FloatCheckpoint) ? FloatModelBytes(run) : 0;
            stdout.WriteLine($"{run.IntegerModel(recipe)}: {bytes / 1024.0:F1} KiB" +
                             (floatBytes > 0 ? $" (float weights {floatBytes / 1024.0:F1} KiB, ratio 1/{(double)floatBytes / bytes:F1})" : ""));
            if (cl.Has("--no-eval")) return CommandErrors.Ok;
            var data = QuantizeCommand.DataFor(run, cl, stderr);
            using var interrupt = new Terminal.Interrupt("stopping the evaluation after the current batch");
            var result = Stages.Evaluate(run, RunFolder.Label(recipe) + "-integer", data, run.LoadModelInfo().Config, model.Detect, stderr, interrupt.Token);
            stdout.Write(result.Format());
            return CommandErrors.Ok;
        });

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) => Definition.Run(args, stdout, stderr);

    /// <summary>Bytes of the float model's parameters and buffers as float32 (what a float checkpoint of the model holds).</summary>
    public static long FloatModelBytes(RunFolder run) => 4L * Stages.LoadFloat(run).Network.StateDict().Values.Sum(t => (long)t.Size);
}
