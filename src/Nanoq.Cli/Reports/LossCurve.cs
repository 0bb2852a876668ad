using System.Globalization;
using Nanoq.IO;

namespace Nanoq.Cli.Reports;

/// <summary>
/// The loss curve of a training or fine-tuning run as a PNG beside its CSV (the trainer's <c>step,loss,…,lr</c> file,
/// which keeps the numbers): <c>float.csv</c> → <c>float-loss.png</c>. Raw per-step losses are noisy, so the line is
/// a moving average of 20 steps, and the title says so.
/// </summary>
public static class LossCurve
{
    /// <summary>Writes the PNG and returns its path; a missing CSV (a run of 0 steps) draws an empty plot.</summary>
    public static string WritePng(string csv, string title, string yLabel)
    {
        var points = !File.Exists(csv) ? [] : File.ReadLines(csv).Skip(1).Select(l => l.Split(',')).Where(f => f.Length >= 2)
            .Select(f => (double.Parse(f[0], CultureInfo.InvariantCulture), double.Parse(f[1], CultureInfo.InvariantCulture))).ToList();
        string name = Path.GetFileNameWithoutExtension(csv);
        string png = Path.Combine(Path.GetDirectoryName(csv) ?? ".", name + "-loss.png");
        var bytes = PngPlot.Lines($"{title} (moving average of 20 steps)", "step", yLabel, [(name, PngPlot.Smooth(points, 20))]);
        AtomicFile.Write(png, s => s.Write(bytes));
        return png;
    }

    /// <summary>The y label of a detector family's loss.</summary>
    public static string LossName(string kind) => kind == "faster-rcnn" ? "loss (RPN + box head)" : "loss (focal + L1)";
}
