using System.Globalization;
using System.Text;

namespace Nanoq.Cli.Reports;

/// <summary>
/// A minimal line chart as SVG (no plotting library needed, opens in any browser): one or more series of (x, y),
/// axes with min/max labels, a legend. Used for the training and fine-tuning loss curves.
/// </summary>
public static class SvgPlot
{
    private static readonly string[] Colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd"];

    public static string Lines(string title, string xLabel, string yLabel, IReadOnlyList<(string Name, IReadOnlyList<(double X, double Y)> Points)> series)
    {
        const int w = 720, h = 400, left = 70, right = 20, top = 40, bottom = 50;
        var all = series.SelectMany(s => s.Points).Where(p => double.IsFinite(p.Y)).ToList();
        double x0 = all.Count > 0 ? all.Min(p => p.X) : 0, x1 = all.Count > 0 ? all.Max(p => p.X) : 1;
        double y0 = all.Count > 0 ? Math.Min(0, all.Min(p => p.Y)) : 0, y1 = all.Count > 0 ? all.Max(p => p.Y) : 1;
        if (x1 <= x0) x1 = x0 + 1;
        if (y1 <= y0) y1 = y0 + 1;
        string F(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);
        double Px(double x) => left + (x - x0) / (x1 - x0) * (w - left - right);
        double Py(double y) => h - bottom - (y - y0) / (y1 - y0) * (h - top - bottom);
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        sb.Append(CultureInfo.InvariantCulture, $"<rect width=\"{w}\" height=\"{h}\" fill=\"white\"/>\n<text x=\"{w / 2}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">{Escape(title)}</text>\n");
        sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{left}\" y1=\"{h - bottom}\" x2=\"{w - right}\" y2=\"{h - bottom}\" stroke=\"black\"/>\n<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{h - bottom}\" stroke=\"black\"/>\n");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{left}\" y=\"{h - bottom + 16}\" text-anchor=\"middle\">{F(x0)}</text><text x=\"{w - right}\" y=\"{h - bottom + 16}\" text-anchor=\"middle\">{F(x1)}</text>\n");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{left - 6}\" y=\"{h - bottom}\" text-anchor=\"end\">{F(y0)}</text><text x=\"{left - 6}\" y=\"{top + 4}\" text-anchor=\"end\">{F(y1)}</text>\n");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{(left + w - right) / 2}\" y=\"{h - 12}\" text-anchor=\"middle\">{Escape(xLabel)}</text>\n");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"16\" y=\"{(top + h - bottom) / 2}\" text-anchor=\"middle\" transform=\"rotate(-90 16 {(top + h - bottom) / 2})\">{Escape(yLabel)}</text>\n");
        for (int i = 0; i < series.Count; i++)
        {
            var pts = series[i].Points.Where(p => double.IsFinite(p.Y)).Select(p => $"{F(Px(p.X))},{F(Py(p.Y))}");
            string color = Colors[i % Colors.Length];
            sb.Append(CultureInfo.InvariantCulture, $"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"1.5\" points=\"{string.Join(' ', pts)}\"/>\n");
            sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"{w - right - 150}\" y=\"{top + 8 + 18 * i}\" width=\"12\" height=\"3\" fill=\"{color}\"/><text x=\"{w - right - 132}\" y=\"{top + 13 + 18 * i}\">{Escape(series[i].Name)}</text>\n");
        }
        sb.Append("</svg>\n");
        return sb.ToString();
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

    private static string Escape(string s) => s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");
}
