using Nanoq.Cli;

namespace Nanoq.Cli.Tests.Commands;

/// <summary>The System.CommandLine front end: generated help, typo suggestions, one-line parse errors, exit codes.</summary>
public sealed class CommandLineTests : CliTest
{
    private static readonly string[] Commands =
        ["run", "datasets", "train", "quantize", "ablation", "reproduce", "inspect", "convert", "eval", "detect", "fashion-mnist", "bench"];

    [Fact]
    public void Every_command_has_a_generated_help_that_exits_zero()
    {
        foreach (var name in Commands)
        {
            var (code, stdout, stderr) = Nanoq(name, "--help");
            Assert.Equal(0, code);
            Assert.Equal("", stderr);
            Assert.StartsWith($"Usage: nanoq {name}", stdout);
            Assert.Contains("Options:", stdout);
            Assert.Contains("-h, --help", stdout);
            Assert.DoesNotContain(" \n", stdout.ReplaceLineEndings("\n"));
            Assert.Equal(stdout, Nanoq(name, "-h").Out);
        }
    }

    [Fact]
    public void Help_lists_each_option_with_its_value_name_and_description()
    {
        var stdout = Nanoq("run", "--help").Out;
        foreach (var o in new[] { "--data <NAME|DIR>", "--out <DIR>", "--quick", "--steps <N>", "--qat-steps <N>", "--bits <K>", "--seed <N>",
                                  "--cache <DIR>", "--lr <X>", "--batch <N>", "--checkpoint-every <N>", "--skip-bad-images" })
            Assert.Contains(o, stdout);
        Assert.Contains("default 1500", stdout);
    }

    [Theory]
    [InlineData(new[] { "run", "--stpes", "3" }, "nanoq run: unknown option --stpes; did you mean --steps? (see nanoq run --help)")]
    [InlineData(new[] { "quantize", "--recipie", "fqn" }, "nanoq quantize: unknown option --recipie; did you mean --recipe? (see nanoq quantize --help)")]
    [InlineData(new[] { "datsets" }, "nanoq: unknown command 'datsets'; did you mean datasets? (see nanoq --help)")]
    [InlineData(new[] { "train", "--steps=many" }, "nanoq train: --steps must be an integer in [0, 10000000], got 'many' (see nanoq train --help)")]
    [InlineData(new[] { "train", "--lr", "0" }, "nanoq train: --lr must be a number in [1E-08, 10], got '0' (see nanoq train --help)")]
    [InlineData(new[] { "run", "extra" }, "nanoq run: unexpected argument 'extra' (see nanoq run --help)")]
    [InlineData(new[] { "bench", "--runs", "0" }, "nanoq bench: --runs must be an integer in [1, 1000000], got '0' (see nanoq bench --help)")]
    [InlineData(new[] { "detect", "--score", "2" }, "nanoq detect: --score must be a number in [0, 1], got '2' (see nanoq detect --help)")]
    public void Typos_and_bad_values_are_one_line_with_exit_two(string[] args, string message)
    {
        var (code, stdout, stderr) = Nanoq(args);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Equal(message + Environment.NewLine, stderr);
    }

    [Fact]
    public void Every_command_refuses_an_unknown_option_in_one_line()
    {
        foreach (var name in Commands)
        {
            var (code, _, stderr) = Nanoq(name, "--frobnicate");
            Assert.Equal(2, code);
            Assert.Equal($"nanoq {name}: unknown option --frobnicate (see nanoq {name} --help)" + Environment.NewLine, stderr);
        }
    }

    [Fact]
    public void No_command_prints_the_list_and_exits_two()
    {
        var (code, stdout, _) = Nanoq();
        Assert.Equal(2, code);
        foreach (var name in Commands) Assert.Contains($"  {name} ", stdout);
        Assert.Equal(0, Nanoq("--help").Code);
    }

    [Fact]
    public void Response_files_are_not_expanded()
    {
        // System.CommandLine would read @FILE as more arguments; nanoq takes it as a value (here: a data set name).
        var (code, _, stderr) = Nanoq("train", "--data", "@no-such-file", "--steps", "bad");
        Assert.Equal(2, code);
        Assert.Contains("--steps", stderr);
    }

    /// <summary>Each detector workload of nanoq bench builds and runs (one run, no warm-up: this checks they work, not their speed).</summary>
    [Theory]
    [InlineData("faster-rcnn-int4-b1")]
    [InlineData("faster-rcnn-finetune-step")]
    [InlineData("retinanet-train-step")]
    public void Detector_bench_workloads_run(string workload)
    {
        var (code, stdout, stderr) = Nanoq("bench", "--only", workload, "--runs", "1", "--warmup", "0");
        Assert.True(code == 0, stderr);
        Assert.Contains(workload, stdout);
    }
}
