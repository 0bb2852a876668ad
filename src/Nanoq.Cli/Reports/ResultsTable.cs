using System.Globalization;
using System.Text;
using Nanoq.Coco.Evaluation;

namespace Nanoq.Cli.Reports;

/// <summary>The 12 COCO numbers of several models in one table, in the layout of the FQN paper's Table 1.</summary>
public static class ResultsTable
{
    public static string Format(IReadOnlyList<(string Model, CocoStats Stats)> rows)
    {
        var sb = new StringBuilder();
        int first = Math.Max(8, rows.Max(r => r.Model.Length));
        sb.Append("model".PadRight(first));
        foreach (var k in CocoStats.Keys) sb.Append(k.PadLeft(7));
        sb.AppendLine();
        sb.AppendLine(new string('-', first + 7 * CocoStats.Keys.Count));
        foreach (var (model, stats) in rows)
        {
            sb.Append(model.PadRight(first));
            foreach (var v in stats.ToArray())
                sb.Append((v < 0 ? "  -" : (100 * v).ToString("F1", CultureInfo.InvariantCulture)).PadLeft(7));
            sb.AppendLine();
        }
        sb.AppendLine("(COCO AP/AR in %, IoU .50:.95 unless named; s/m/l: small/medium/large objects)");
        return sb.ToString();
    }
}
