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
        """,
        """
        Prints, for the fine-tuned model in DIR (from nanoq quantize with the same recipe options), one line per quantizer:
        name, role, bits, per-channel or per-tensor, Δ (min..max over channels), zero point(s) and range [lb, ub];
        then the histogram over conv layers of 20·log10(max channel range / min channel range) of the folded weights.

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
        },
        (cl, stdout, stderr) =>
        {
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
            stdout.Write(RangeRatioHistogram(model.Network.NamedTaps().Select(t => t.Tap).OfType<ConvUnit>().Where(u => u.Implementation is FoldedConv)));
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

    /// <summary>Per conv layer: ratio of the widest to the narrowest output channel's weight range, in dB, as a text histogram.</summary>
    public static string RangeRatioHistogram(IEnumerable<ConvUnit> layers)
    {
        var db = new List<double>();
        foreach (var l in layers)
        {
            var (w, b) = FoldedConv.Folded(l);
            b.Dispose();
            using var _ = w;
            int c = w.Shape[0], per = w.Size / Math.Max(1, c);
            double lo = double.MaxValue, hi = 0;
            for (int ch = 0; ch < c; ch++)
            {
                var s = w.Span.Slice(ch * per, per);
                float mn = 0, mx = 0; // the range always contains 0 (DESIGN.md §5.1)
                foreach (float v in s) { mn = Math.Min(mn, v); mx = Math.Max(mx, v); }
                double r = mx - mn;
                if (r > 0) { lo = Math.Min(lo, r); hi = Math.Max(hi, r); }
            }
            if (hi > 0 && lo < double.MaxValue) db.Add(20 * Math.Log10(hi / lo));
        }
        var sb = new StringBuilder("per-channel weight range ratio (max/min over output channels) of each conv layer, dB:\n");
        if (db.Count == 0) return sb.Append("  (no conv layers)\n").ToString();
        const double bin = 5;
        int bins = (int)Math.Ceiling(db.Max() / bin) + 1;
        var counts = new int[bins];
        foreach (var v in db) counts[(int)(v / bin)]++;
        for (int i = 0; i < bins; i++)
            sb.Append(CultureInfo.InvariantCulture, $"  {i * bin,4:F0}–{(i + 1) * bin,3:F0} dB {counts[i],4} {new string('#', counts[i])}\n");
        sb.Append(CultureInfo.InvariantCulture, $"  {db.Count} layers, median {db.Order().ElementAt(db.Count / 2):F1} dB, max {db.Max():F1} dB\n");
        return sb.ToString();
    }
}
