using Nanoq.Cli.Reports;
using Nanoq.IO;

namespace Nanoq.Cli.Reproduce;

/// <summary>
/// The paper's figures from the cells' results, as PNG (ScottPlot, <see cref="PngPlot"/>) in the output folder. They
/// cost nothing to draw, so they are drawn anew on every invocation from whatever cells are finished; each returns its
/// file names for the report.
/// </summary>
public static class Figures
{
    /// <summary>Figure 1: histograms over the fine-tuning steps of channel 0's β, batch mean and batch variance (three PNGs).</summary>
    public static IReadOnlyList<string> BatchNormStatistics(string dir, CellResult probe)
    {
        var files = new List<string>();
        foreach (var (key, name, file) in new[] { ("beta", "β", "figure1-beta.png"), ("batch_mean", "batch mean", "figure1-batch-mean.png"), ("batch_var", "batch variance", "figure1-batch-var.png") })
        {
            var v = probe.Series.GetValueOrDefault(key, []);
            double lo = v.Length > 0 ? v.Min() : 0, hi = v.Length > 0 ? v.Max() : 1;
            double bin = hi > lo ? (hi - lo) / 20 * 1.0001 : 1e-3;
            Write(dir, file, PngPlot.Histograms($"Figure 1: {ReproducePlan.ProbeLayer}[0] {name}, {v.Length} steps, 4-bit, no F",
                name, [(name, v)], lo, bin, 20));
            files.Add(file);
        }
        return files;
    }

    /// <summary>Figure 2: per-channel weight-range ratios in dB, the trained detector's against the ImageNet ResNet-18's (2-dB bins; ≥ 40 dB in the last).</summary>
    public static string WeightRanges(string dir, CellResult trained, CellResult imagenet)
    {
        const string file = "figure2-weight-range-ratio.png";
        Write(dir, file, PngPlot.Histograms("Figure 2: per-channel weight range vs the layer's (BN folded)", "20·log10(R / r_c), dB",
            [("trained detector (ResNet-18 RetinaNet)", trained.Series.GetValueOrDefault("db", [])), ("ImageNet ResNet-18", imagenet.Series.GetValueOrDefault("db", []))],
            0, 2, 21));
        return file;
    }

    /// <summary>Figure 4: AP against fine-tuning step for Table 5's methods.</summary>
    public static string ApCurves(string dir, IReadOnlyList<(string Method, CellResult Result)> curves)
    {
        const string file = "figure4-ap-vs-step.png";
        Write(dir, file, PngPlot.Lines("Figure 4: AP during 4-bit fine-tuning", "fine-tuning step", "AP (COCO, %)",
            curves.Select(c => (c.Method, (IReadOnlyList<(double, double)>)c.Result.Curve.Select(p => ((double)p.Step, 100 * p.Stats[0])).ToList())).ToList()));
        return file;
    }

    private static void Write(string dir, string file, byte[] png) => AtomicFile.Write(Path.Combine(dir, file), s => s.Write(png));
}
