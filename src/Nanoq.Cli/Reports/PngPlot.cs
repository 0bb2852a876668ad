using ScottPlot;

namespace Nanoq.Cli.Reports;

/// <summary>
/// Figures as PNG through ScottPlot: axes with ticks, a title, axis labels and a legend come from the library, so the
/// loss curves of train/quantize and the figures of <c>nanoq reproduce</c> look alike and open anywhere. Each method
/// returns the encoded PNG; the caller writes it atomically beside its CSV or JSON data.
/// </summary>
public static class PngPlot
{
    public const int Width = 800, Height = 450;

    /// <summary>One line a series of (x, y); non-finite points are left out (a curve may have a gap, not a spike).</summary>
    public static byte[] Lines(string title, string xLabel, string yLabel, IReadOnlyList<(string Name, IReadOnlyList<(double X, double Y)> Points)> series)
    {
        var plot = New(title, xLabel, yLabel);
        foreach (var (name, points) in series)
        {
            var finite = points.Where(p => double.IsFinite(p.Y)).ToArray();
            var line = plot.Add.Scatter(finite.Select(p => p.X).ToArray(), finite.Select(p => p.Y).ToArray());
            line.LegendText = name;
            line.MarkerSize = finite.Length <= 30 ? 5 : 0; // a few evaluations show their points; a loss curve is a line
        }
        return Encode(plot, series.Count);
    }

    /// <summary>
    /// Histograms of several samples over the same bins of width <paramref name="bin"/> starting at <paramref name="lo"/>,
    /// as fractions of each sample (so a sample of 5,824 channels and one of 300 compare), bars side by side in each bin.
    /// </summary>
    public static byte[] Histograms(string title, string xLabel, IReadOnlyList<(string Name, IReadOnlyList<double> Values)> samples, double lo, double bin, int bins)
    {
        var plot = New(title, xLabel, "fraction");
        double width = bin / Math.Max(1, samples.Count);
        for (int s = 0; s < samples.Count; s++)
        {
            var counts = Counts(samples[s].Values, lo, bin, bins);
            double total = Math.Max(1, counts.Sum());
            var bars = Enumerable.Range(0, bins).Select(k => new Bar
            {
                Position = lo + k * bin + (s + 0.5) * width,
                Value = counts[k] / total,
                Size = width * 0.9,
                FillColor = Palette[s % Palette.Length],
                LineWidth = 0,
            }).ToList();
            plot.Add.Bars(bars);
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = samples[s].Name, FillColor = Palette[s % Palette.Length] });
        }
        plot.Axes.Margins(bottom: 0);
        return Encode(plot, samples.Count);
    }

    /// <summary>Counts of values in [lo + k·bin, lo + (k + 1)·bin), k &lt; bins; values outside go to the first or last bin.</summary>
    public static int[] Counts(IEnumerable<double> values, double lo, double bin, int bins)
    {
        var counts = new int[bins];
        foreach (double v in values.Where(double.IsFinite))
            counts[Math.Clamp((int)Math.Floor((v - lo) / bin), 0, bins - 1)]++;
        return counts;
    }

    /// <summary>A moving average over <paramref name="window"/> points (raw per-step losses are noisy).</summary>
    public static IReadOnlyList<(double X, double Y)> Smooth(IReadOnlyList<(double X, double Y)> points, int window)
    {
        var r = new List<(double, double)>(points.Count);
        double sum = 0;
        for (int i = 0; i < points.Count; i++)
        {
            sum += points[i].Y;
            if (i >= window) sum -= points[i - window].Y;
            r.Add((points[i].X, sum / Math.Min(i + 1, window)));
        }
        return r;
    }

    private static readonly Color[] Palette =
        [Color.FromHex("#1f77b4"), Color.FromHex("#d62728"), Color.FromHex("#2ca02c"), Color.FromHex("#ff7f0e"), Color.FromHex("#9467bd"),
         Color.FromHex("#8c564b"), Color.FromHex("#e377c2"), Color.FromHex("#7f7f7f")];

    private static Plot New(string title, string xLabel, string yLabel)
    {
        var plot = new Plot();
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        plot.Add.Palette = new ScottPlot.Palettes.Category10();
        return plot;
    }

    /// <summary>The PNG; a legend of more than three entries goes beside the plot (the image widened for it), where it hides no data.</summary>
    private static byte[] Encode(Plot plot, int legendEntries)
    {
        if (legendEntries > 3) plot.ShowLegend(Edge.Right);
        else if (legendEntries > 0) plot.ShowLegend(Alignment.UpperRight);
        return plot.GetImageBytes(legendEntries > 3 ? Width * 3 / 2 : Width, Height, ImageFormat.Png);
    }
}
