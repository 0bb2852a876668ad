using System.Text.Json;

namespace Nanoq.Cli.Tests.Commands;

/// <summary>
/// <c>nanoq reproduce --budget quick</c> end to end (every table and figure, every cell a number), its resumption (a
/// second invocation runs nothing and touches no cell; a removed cell result reruns that cell alone), and its usage errors.
/// </summary>
public sealed class ReproduceCommandTests : CliTest, IDisposable
{
    private readonly string _dir = TestData.TempDir("reproduce");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void QuickBudgetWritesEveryTableAndFigureAndResumesWithoutRecomputing()
    {
        string outDir = Path.Combine(_dir, "quick");
        var (code, stdout, stderr) = Nanoq("reproduce", "--budget", "quick", "--out", outDir);
        Assert.True(code == 0, stderr);
        Assert.Contains("report.md", stdout);
        Assert.Contains("plan: ", stderr);
        Assert.Contains("estimated", stderr);

        // Every figure is a PNG.
        foreach (var f in new[] { "figure1-beta.png", "figure1-batch-mean.png", "figure1-batch-var.png", "figure2-weight-range-ratio.png", "figure4-ap-vs-step.png" })
        {
            var bytes = File.ReadAllBytes(Path.Combine(outDir, f));
            Assert.True(bytes.Length > 1000 && bytes[1] == (byte)'P' && bytes[2] == (byte)'N' && bytes[3] == (byte)'G', f);
        }

        // Every table in report.md, each claim with a verdict computed from the numbers.
        string md = File.ReadAllText(Path.Combine(outDir, "report.md"));
        foreach (var title in new[] { "## Table 1", "## Table 2a", "## Table 2b", "## Table 3: F throughout vs only the last N steps, 4 bits",
                                      "## Table 3: F throughout vs only the last N steps, 8 bits", "## Table 4", "## Table 5", "## The batch-size question" })
            Assert.Contains(title, md);
        var claimLines = md.Split('\n').Where(l => l.StartsWith("- ", StringComparison.Ordinal) && l.Contains('→')).ToList();
        Assert.True(claimLines.Count >= 20, $"{claimLines.Count} claim lines");
        Assert.All(claimLines, l => Assert.Matches("→ (\\*\\*(reproduced|not reproduced|within noise)\\*\\*|delta \\(no claim\\))", l));
        Assert.Contains("n/a", md); // the paper's numbers that could not be read

        // report.json: every row's AP and every evaluated cell's 12 numbers are numbers; Figure 4's cells have curves.
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "report.json")));
        var root = json.RootElement;
        Assert.Equal(8, root.GetProperty("tables").GetArrayLength());
        foreach (var table in root.GetProperty("tables").EnumerateArray())
        {
            foreach (var row in table.GetProperty("rows").EnumerateArray())
            {
                Assert.True(double.IsFinite(row.GetProperty("ap_mean").GetDouble()), row.GetProperty("label").GetString());
                Assert.All(row.GetProperty("ap").EnumerateArray(), a => Assert.True(double.IsFinite(a.GetDouble())));
            }
            Assert.All(table.GetProperty("claims").EnumerateArray(), c => Assert.False(string.IsNullOrEmpty(c.GetProperty("verdict").GetString())));
        }
        var cells = root.GetProperty("cells").EnumerateArray().ToList();
        Assert.Equal(52, cells.Count); // quick plan, 2 seeds for F's rows: every shared row counted once
        foreach (var cell in cells.Where(c => c.GetProperty("kind").GetString() is "float" or "quant"))
        {
            var coco = cell.GetProperty("coco").EnumerateObject().ToList();
            Assert.Equal(12, coco.Count);
            Assert.All(coco, p => Assert.True(double.IsFinite(p.Value.GetDouble()), $"{cell.GetProperty("id")}: {p.Name}"));
            Assert.True(cell.GetProperty("wall_seconds").GetDouble() >= 0);
        }
        Assert.Contains(cells, c => c.GetProperty("curve").GetArrayLength() == 3); // 6 steps, an evaluation every 3: steps 0, 3, 6

        // A second invocation runs nothing: no cell file is rewritten.
        string cellDir = Path.Combine(outDir, "cells");
        var before = Directory.GetFiles(cellDir, "*.json").ToDictionary(f => f, File.GetLastWriteTimeUtc);
        var again = Nanoq("reproduce", "--budget", "quick", "--out", outDir);
        Assert.True(again.Code == 0, again.Err);
        Assert.Contains("0 cells to run", again.Err);
        Assert.All(before, kv => Assert.Equal(kv.Value, File.GetLastWriteTimeUtc(kv.Key)));

        // A cell whose result is gone runs again, alone, resuming from its finished checkpoint.
        string one = Directory.GetFiles(cellDir, "quant-retinanet-resnet18-lsq-*.json").Single();
        File.Delete(one);
        var third = Nanoq("reproduce", "--budget", "quick", "--out", outDir);
        Assert.True(third.Code == 0, third.Err);
        Assert.Contains("1 cells to run", third.Err);
        Assert.Contains("resuming from", third.Err);
        Assert.True(File.Exists(one));
    }

    [Fact]
    public void PlanOnlyPrintsTheCellsAndWritesNothing()
    {
        string outDir = Path.Combine(_dir, "plan");
        var (code, _, stderr) = Nanoq("reproduce", "--budget", "default", "--plan", "--out", outDir);
        Assert.True(code == 0, stderr);
        Assert.Contains("budget 'default'", stderr);
        Assert.Contains("60 cells to run", stderr);
        Assert.False(Directory.Exists(outDir));
    }

    [Theory]
    [InlineData("--budget", "huge", "--budget must be one of quick, default, full, got 'huge'")]
    [InlineData("--seeds", "0", "--seeds must be an integer in [1, 20], got '0'")]
    public void BadInputIsOneLineNamingTheOption(string option, string value, string message)
    {
        var (code, _, stderr) = Nanoq("reproduce", option, value, "--out", Path.Combine(_dir, "bad"));
        Assert.Equal(2, code);
        Assert.Contains(message, stderr);
        Assert.Single(stderr.Trim().Split('\n'));
    }
}
