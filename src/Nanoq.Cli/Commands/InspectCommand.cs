using System.Globalization;
using System.Text;
using Nanoq.Cli.Pipeline;
using Nanoq.Quant;
using Nanoq.Nn.Taps;
using Nanoq.Quant.Taps;

namespace Nanoq.Cli.Commands;

/// <summary>
/// <c>nanoq inspect</c>: every quantizer of a fine-tuned model (layer, role, bits, Δ, z, range, per-channel or not)
/// and the histogram of per-channel weight-range ratios in dB — the paper's Figure 2 argument for C: when channels'
/// ranges differ by tens of dB, one per-tensor grid leaves the narrow channels with a handful of levels.
/// </summary>
public static class InspectCommand
{
    internal static readonly CliCommand Definition = new("inspect",
        """
        Usage: nanoq inspect [--out DIR] [--bits 4] [--recipe fqn|baseline|...] [--no-f] [--no-p] [--no-c] [--layer SUBSTRING]
               nanoq inspect --audit OP --element I,J,… --image PATH [--call K] [--out DIR] [--bits 4]
               nanoq inspect --backbone resnet18-imagenet|onnx:FILE
        """,
        """
        Prints, for the fine-tuned model in DIR (from nanoq quantize with the same recipe options), one line per quantizer:
        name, role, bits, per-channel or per-tensor, Δ (min..max over channels), zero point(s) and range [lb, ub];
        then the paper's Figure 2 for its folded conv weights: the histogram over all output channels of
        20·log10(R / r_c), R a layer's per-tensor weight range and r_c a channel's (how many dB, i.e. bits, a channel
        loses on a per-tensor grid), and over layers of the spread max r_c / min r_c.

        With --backbone, the same figure for a backbone's own weights, without a run folder: resnet18-imagenet (the
        ImageNet-trained ResNet-18 of NuGet's Microsoft.ML.DnnImageFeaturizer.ResNet18) or onnx:FILE.

        With --audit, the integer model (DIR/int<K>.nqm) runs on the image; for output element [I, J, …] of the program op
        OP (a name such as backbone.layer1.0.conv1, fpn.topdown3 or maxpool; --call K picks the K-th call of a layer run
        once per pyramid level, op OP#K) it prints the integer computation step by step — Σ products, zero-point terms,
        bias, accumulator, multiplier and shift, rounding, zero point, clamp — and the real value the code stands for.
        The program's ops: --audit list.
        """,
        spec =>
        {
            spec.Text("--out", "DIR", "the run folder (default runs/shapes)");
            QuantizeCommand.DeclareRecipe(spec, fineTuning: true);
            spec.Text("--layer", "S", "only quantizers whose name contains S");
            spec.Text("--audit", "OP", "explain one output element of the integer program's op OP (list: all ops)");
            spec.Text("--element", "I,J,…", "with --audit: the element's index");
            spec.Text("--image", "PATH", "with --audit: the input image");
            spec.Int("--call", "K", "with --audit: the K-th call of a layer run once per pyramid level (default 0)", 0, 1024);
            spec.Text("--backbone", "NAME", "Figure 2 of a backbone's own weights instead: resnet18-imagenet or onnx:FILE (or a native name, randomly initialized)");
        },
        (cl, stdout, stderr) =>
        {
            if (cl.Get("--backbone") is string name) return BackboneFigure(name, stdout);
            var run = QuantizeCommand.OpenRun(cl);
            var recipe = QuantizeCommand.Recipe(cl);
            if (cl.Get("--audit") is string layer) return Audit(run, recipe, layer, cl, stdout);
            var (model, registry) = QuantStages.Load(run, recipe, run.QuantCheckpoint(recipe));
            string filter = cl.Get("--layer") ?? "";
            stdout.WriteLine($"{registry.Count} quantizers in {run.QuantCheckpoint(recipe)} ({recipe})");
            stdout.WriteLine($"{"name",-44} {"role",-10} {"bits",4} {"grid",-11} {"Δ",-21} {"z",-9} range");
            foreach (var q in registry.Describe())
            {
                if (!q.Name.Contains(filter, StringComparison.Ordinal)) continue;
                stdout.WriteLine(Line(q));
            }
            stdout.WriteLine();
            stdout.Write(Figure2(Onnx.WeightRangeRatios.Compute(model.Network), $"the fine-tuned model's conv weights, batch norm folded"));
            return CommandErrors.Ok;
        });

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) => Definition.Run(args, stdout, stderr);

    private static int Audit(RunFolder run, QuantRecipe recipe, string layer, CommandArgs cl, TextWriter stdout)
    {
        var model = IntegerStages.Load(run, recipe);
        var program = model.Model.Program;
        if (layer == "list")
        {
            foreach (var o in program.Ops) stdout.WriteLine(o);
            return CommandErrors.Ok;
        }
        int call = cl.Int("--call", 0);
        string name = call == 0 ? layer : $"{layer}#{call}";
        if (!program.Ops.Any(o => o.Name == name))
            throw new UsageException($"--audit: the program has no op '{name}' (list them with --audit list)");
        var e = cl.Required("--element").Split(',');
        if (!e.All(v => int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out _)))
            throw new UsageException($"--element must be comma-separated integers, got '{cl.Get("--element")}'");
        int[] at = e.Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        var image = Coco.Imaging.ImageCodec.Load(cl.Required("--image"));
        var sample = Coco.Data.CocoFolder.FromImage(image, Stages.Transform(run.LoadModelInfo().Config));
        var batch = Coco.Data.Batcher.Collate([sample]);
        var codes = model.Model.Quantize(0, Tensor.FromArray(batch.Data, 1, 3, batch.H, batch.W));
        string text;
        try
        {
            // A two-stage detector's RoIAlign takes its RoIs from the host mid-run, as in detection.
            var side = model.Detector is Detection.IStagedDetector staged ? staged.IntegerRun(model.Model, batch.H, batch.W).SideInputs : null;
            text = program.Explain([codes], name, at, side);
        }
        catch (ArgumentException x)
        {
            throw new UsageException($"--element: {x.Message}");
        }
        var op = program.Op(name);
        var grid = model.Model.Grid(op.Output);
        stdout.Write(text);
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  the output grid: Δ = {grid.Scale:G6}, z = {grid.ZeroPoint} ({grid.Bits} bits): code q stands for (q − z)·Δ"));
        return CommandErrors.Ok;
    }

    private static string Line(QuantizerInfo q)
    {
        static string F(double v) => v.ToString("G4", CultureInfo.InvariantCulture);
        string grid = q.PerChannel ? $"{q.Scales.Length} chan" : "tensor";
        if (!q.Calibrated) return $"{q.Name,-44} {q.Role,-10} {q.Bits,4} {grid,-11} (not calibrated)";
        string scale = q.Scales.Length == 1 ? F(q.Scales[0]) : $"{F(q.Scales.Min())}..{F(q.Scales.Max())}";
        string z = q.ZeroPoints.Length == 0 ? "-" : q.ZeroPoints.Length == 1 ? q.ZeroPoints[0].ToString(CultureInfo.InvariantCulture) : $"{q.ZeroPoints.Min()}..{q.ZeroPoints.Max()}";
        string range = q.Lb.Length == 1 ? $"[{F(q.Lb[0])}, {F(q.Ub[0])}]" : $"[{F(q.Lb.Min())}, {F(q.Ub.Max())}] (union)";
        return $"{q.Name,-44} {q.Role,-10} {q.Bits,4} {grid,-11} {scale,-21} {z,-9} {range}";
    }

    private static int BackboneFigure(string name, TextWriter stdout)
    {
        if (!Nn.Backbones.DetectionBackbones.IsKnown(name))
            throw new UsageException($"--backbone must be one of {Nn.Backbones.DetectionBackbones.Known}, got '{name}'");
        TrainCommand.CheckBackboneFile(name);
        var backbone = (Nn.Module)Nn.Backbones.DetectionBackbones.Create(name, 1f, new Rng(0));
        stdout.Write(Figure2(Onnx.WeightRangeRatios.Compute(backbone), $"{name}'s conv weights, batch norm folded"));
        return CommandErrors.Ok;
    }

    /// <summary>
    /// The paper's Figure 2 as text: the histogram over every output channel of every conv layer of 20·log10(R / r_c)
    /// (2-dB bins; R the layer's per-tensor range, r_c the channel's, both containing 0), then the layers' spreads
    /// 20·log10(max r_c / min r_c) (5-dB bins) — the number of dB by which per-tensor quantization shortchanges the
    /// narrowest channel.
    /// </summary>
    public static string Figure2(IReadOnlyList<Onnx.LayerRangeRatios> layers, string what)
    {
        var sb = new StringBuilder();
        var channels = layers.SelectMany(l => l.ChannelDb).Where(double.IsFinite).ToArray();
        sb.Append(CultureInfo.InvariantCulture, $"Figure 2: per-channel weight range against the layer's, 20·log10(R / r_c), {what}:\n");
        if (channels.Length == 0) return sb.Append("  (no conv layers)\n").ToString();
        // 2-dB bars to 40 dB (the paper's axis), the tail beyond in one bar.
        var bars = Onnx.WeightRangeRatios.Histogram(channels, 2).Where(b => b.Lo < 40).Select(b => ($"{b.Lo,4:F0}–{b.Hi,3:F0} dB", b.Count)).ToList();
        int tail = channels.Count(v => v >= 40);
        if (tail > 0) bars.Add(("  ≥ 40 dB  ", tail));
        int peak = bars.Max(b => b.Count);
        foreach (var (label, count) in bars)
            sb.Append(CultureInfo.InvariantCulture, $"  {label} {count,6} {new string('#', (int)Math.Ceiling(50.0 * count / peak))}\n");
        sb.Append(CultureInfo.InvariantCulture,
            $"  {channels.Length} channels of {layers.Count} layers: median {Onnx.WeightRangeRatios.Percentile(channels, 50):F1} dB, 90th percentile {Onnx.WeightRangeRatios.Percentile(channels, 90):F1} dB, max {channels.Max():F1} dB\n");
        var spreads = layers.Select(l => l.SpreadDb).ToArray();
        sb.Append("per layer, the spread max r_c / min r_c in dB:\n");
        foreach (var (lo, hi, count) in Onnx.WeightRangeRatios.Histogram(spreads, 5).Where(b => b.Lo < 40))
            sb.Append(CultureInfo.InvariantCulture, $"  {lo,4:F0}–{hi,3:F0} dB {count,4} {new string('#', count)}\n");
        if (spreads.Count(v => v >= 40) is > 0 and var wide)
            sb.Append(CultureInfo.InvariantCulture, $"    ≥ 40 dB   {wide,4} {new string('#', wide)}\n");
        sb.Append(CultureInfo.InvariantCulture, $"  {layers.Count} layers, median {Onnx.WeightRangeRatios.Percentile(spreads, 50):F1} dB, max {spreads.Max():F1} dB\n");
        return sb.ToString();
    }
}
