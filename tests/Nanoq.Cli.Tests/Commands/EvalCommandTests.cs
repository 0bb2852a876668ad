using System.Text.Json;
using Nanoq.Cli.Commands;

namespace Nanoq.Cli.Tests.Commands;

public sealed class EvalCommandTests : CliTest, IDisposable
{
    private readonly string _dir = TestData.TempDir("evalcmd");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Run(params string[] args) => Nanoq(["eval", .. args]);

    private static string Gt => TestData.CocoEval("case05_dense", "gt.json");
    private static string Dt => TestData.CocoEval("case05_dense", "dt.json");

    [Fact]
    public void PrintsThe12LinesOfPycocotools()
    {
        var (code, stdout, stderr) = Run("--gt", Gt, "--results", Dt);
        Assert.Equal(0, code);
        Assert.Equal("", stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(12, lines.Length);
        Assert.Equal(" Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.095", lines[0]);
        Assert.StartsWith(" Average Recall     (AR) @[ IoU=0.50:0.95 | area= large | maxDets=100 ] = ", lines[11]);
    }

    [Fact]
    public void JsonPrintsOneObjectWithThe12Keys()
    {
        var (code, stdout, _) = Run("--gt", Gt, "--results", Dt, "--json");
        Assert.Equal(0, code);
        Assert.Single(stdout.Trim().Split('\n'));
        using var doc = JsonDocument.Parse(stdout);
        Assert.Equal(["AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"],
            doc.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(0.0951, doc.RootElement.GetProperty("AP").GetDouble(), 4);
    }

    [Fact]
    public void PerCategoryAddsATable()
    {
        var (code, stdout, _) = Run("--gt", Gt, "--results", Dt, "--per-category");
        Assert.Equal(0, code);
        Assert.Contains("AP50", stdout);
        Assert.True(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length > 13);
    }

    [Fact]
    public void HelpExitsZero()
    {
        var (code, stdout, _) = Run("--help");
        Assert.Equal(0, code);
        Assert.StartsWith("Usage: nanoq eval --gt GT.json --results DT.json", stdout);
    }

    [Theory]
    [InlineData(new[] { "--results", "x.json" }, "nanoq eval: --gt is required (see nanoq eval --help)")]
    [InlineData(new[] { "--gt" }, "nanoq eval: --gt needs a value (see nanoq eval --help)")]
    [InlineData(new[] { "--gt", "a", "--results", "b", "--bogus" }, "nanoq eval: unknown option --bogus (see nanoq eval --help)")]
    [InlineData(new[] { "--gt", "a", "--gt", "b" }, "nanoq eval: --gt given twice (see nanoq eval --help)")]
    public void BadUsageExitsTwoWithOneLine(string[] args, string message)
    {
        var (code, stdout, stderr) = Run(args);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Equal(message + Environment.NewLine, stderr);
    }

    [Fact]
    public void BadInputExitsTwoNamingTheFile()
    {
        string dt = Path.Combine(_dir, "dt.json");
        File.WriteAllText(dt, """[{"image_id": 999999, "category_id": 1, "bbox": [1, 1, 2, 2], "score": 0.5}]""");
        var (code, _, stderr) = Run("--gt", Gt, "--results", dt);
        Assert.Equal(2, code);
        Assert.StartsWith($"nanoq eval: {dt}: [0].image_id: image id 999999 is not in the ground truth", stderr);
        Assert.Single(stderr.Trim().Split('\n'));

        string missing = Path.Combine(_dir, "missing.json");
        Assert.Equal($"nanoq eval: {missing}: file not found" + Environment.NewLine, Run("--gt", missing, "--results", dt).Err);
    }
}
