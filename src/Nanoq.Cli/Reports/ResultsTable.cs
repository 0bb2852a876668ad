using System.Globalization;
using System.Text;
using Nanoq.Coco.Evaluation;
using Spectre.Console;

namespace Nanoq.Cli.Reports;

/// <summary>The 12 COCO numbers of several models in one table, in the layout of the FQN paper's Table 1.</summary>
public static class ResultsTable
{
    private const string Note = "(COCO AP/AR in %, IoU .50:.95 unless named; s/m/l: small/medium/large objects)";

    /// <summary>
    /// Writes the table: a Spectre.Console table on a terminal wide enough for it, else the plain text of
    /// <see cref="Format"/> (output redirected, or not the console: a log, a test's writer) — the same numbers either way.
    /// <paramref name="width"/> overrides the terminal's width.
    /// </summary>
    public static void Write(TextWriter output, IReadOnlyList<(string Model, CocoStats Stats)> rows, bool? interactive = null, int? width = null)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) });
        if (width is int w) console.Profile.Width = w;
        // Borders and padding: 3 characters a column; the model names and 12 cells of up to 5.
        int needed = Math.Max(5, rows.Max(r => r.Model.Length)) + 13 * 3 + 1 + 12 * 5;
        if (!(interactive ?? (!Console.IsOutputRedirected && ReferenceEquals(output, Console.Out))) || console.Profile.Width < needed)
        {
            output.Write(Format(rows));
            return;
        }
        var table = new Table().Border(TableBorder.Rounded).AddColumn("model");
        foreach (var k in CocoStats.Keys) table.AddColumn(new TableColumn(k).RightAligned());
        foreach (var (model, stats) in rows)
            table.AddRow([Markup.Escape(model), .. stats.ToArray().Select(Cell)]);
        table.Caption(Note);
        console.Write(table);
    }

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
            foreach (var v in stats.ToArray()) sb.Append(Cell(v).PadLeft(7));
            sb.AppendLine();
        }
        sb.AppendLine(Note);
        return sb.ToString();
    }

    private static string Cell(double v) => v < 0 ? "-" : (100 * v).ToString("F1", CultureInfo.InvariantCulture);
}
