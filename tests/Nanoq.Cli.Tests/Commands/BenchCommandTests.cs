namespace Nanoq.Cli.Tests.Commands;

/// <summary><c>nanoq bench</c> at tiny scale: a pair runs interleaved and prints its ratio; a bad name is one line.</summary>
public sealed class BenchCommandTests : CliTest
{
    [Fact]
    public void A_pair_runs_interleaved_and_prints_its_ratio()
    {
        var (code, stdout, stderr) = Nanoq("bench", "--only", "retinanet-float-b1,retinanet-int4-b1", "--runs", "3", "--warmup", "1");
        Assert.Equal(0, code);
        Assert.Equal("", stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, lines.Length);
        Assert.StartsWith("retinanet-float-b1 ", lines[1]);
        Assert.StartsWith("retinanet-int4-b1 ", lines[2]);
        Assert.Matches(@"^  retinanet-int4-b1 / retinanet-float-b1 time: \d+\.\d\d, \d+\.\d\dx (faster|slower) \(median of 3 interleaved pairs\)", lines[3]);
        // Each row's median is a positive number of milliseconds.
        foreach (var row in lines[1..3])
            Assert.True(double.Parse(row.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) > 0, row);
    }

    [Fact]
    public void An_unknown_name_in_the_list_is_one_line_with_exit_two()
    {
        var (code, stdout, stderr) = Nanoq("bench", "--only", "retinanet-float-b1,nope");
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.StartsWith("nanoq bench: unknown workload 'nope'; one of resnet18-train-step", stderr);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
