using Nanoq.Coco;
using Nanoq.Cli.Commands;

namespace Nanoq.Cli.Tests.Commands;

public sealed class DatasetsCommandTests : CliTest, IDisposable
{
    private readonly string _dir = TestData.TempDir("dscmd");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Run(params string[] args) => Nanoq(["datasets", .. args]);

    [Fact]
    public void WritesTrainAndValCocoFolders()
    {
        string outDir = Path.Combine(_dir, "shapes");
        var (code, stdout, stderr) = Run("--name", "shapes", "--out", outDir, "--train", "3", "--val", "2", "--size", "64", "--seed", "5");
        Assert.Equal(0, code);
        Assert.Equal("", stderr);
        Assert.Contains($"{Path.Combine(outDir, "train")}: 3 images", stdout);
        Assert.Contains($"{Path.Combine(outDir, "val")}: 2 images", stdout);
        Assert.Equal(3, Directory.GetFiles(Path.Combine(outDir, "train", "images"), "*.png").Length);
        Assert.Equal(2, CocoDataset.Load(Path.Combine(outDir, "val", "instances.json")).Images.Count);
    }

    [Fact]
    public void HelpExitsZero()
    {
        var (code, stdout, _) = Run("--help");
        Assert.Equal(0, code);
        Assert.Contains("DIR/train/instances.json", stdout);
    }

    [Theory]
    [InlineData(new[] { "--name", "mnist", "--out", "x" }, "--name must be one of shapes, fashion-det, got 'mnist'")]
    [InlineData(new[] { "--name", "shapes" }, "--out is required")]
    [InlineData(new[] { "--name", "shapes", "--out", "x", "--size", "10" }, "--size must be an integer in [32, 4096], got '10'")]
    [InlineData(new[] { "--name", "shapes", "--out", "x", "--train", "-1" }, "--train must be an integer in [0, 10000000], got '-1'")]
    [InlineData(new[] { "--name", "shapes", "--out", "x", "--seed", "abc" }, "--seed must be a non-negative integer, got 'abc'")]
    public void BadUsageExitsTwo(string[] args, string message)
    {
        var (code, _, stderr) = Run(args);
        Assert.Equal(2, code);
        Assert.Equal($"nanoq datasets: {message} (see nanoq datasets --help)" + Environment.NewLine, stderr);
    }

    [Fact]
    public void FashionDetWithoutTheDataNamesThePackage()
    {
        string nowhere = Path.Combine(_dir, "no-fashion");
        var (code, _, stderr) = Run("--name", "fashion-det", "--out", Path.Combine(_dir, "f"), "--fashion-dir", nowhere);
        Assert.Equal(2, code);
        Assert.Contains(nowhere, stderr);
        Assert.Contains("dataset-fashion-mnist", stderr);
        Assert.Single(stderr.Trim().Split('\n'));
    }
}
