using System.Diagnostics;

namespace Nanoq.Cli.Tests.Commands;

/// <summary>Issue 19 finding 6: SIGTERM (a scheduler, `kill`) is handled like Ctrl-C — the step finishes, a checkpoint is written, exit 130.</summary>
public sealed class SigtermTests : IDisposable
{
    private readonly string _dir = TestData.TempDir("sigterm");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [LinuxFact]
    public void Sigterm_during_training_writes_a_checkpoint_and_exits_130()
    {
        string nanoq = Path.Combine(AppContext.BaseDirectory, "nanoq.dll");
        string outDir = Path.Combine(_dir, "run");
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false,
            ArgumentList = { nanoq, "train", "--data", "shapes", "--out", outDir, "--steps", "100000", "--checkpoint-every", "100000",
                             "--width", "0.125", "--fpn-channels", "8", "--head-convs", "1", "--input-size", "64" },
        };
        psi.Environment["NANOQ_NUM_THREADS"] = "1";
        using var p = Process.Start(psi)!;
        var err = new System.Text.StringBuilder();
        var started = new ManualResetEventSlim();
        p.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (err) err.AppendLine(e.Data);
            if (e.Data.StartsWith("float", StringComparison.Ordinal)) started.Set(); // the first progress line: training runs
        };
        p.BeginErrorReadLine();
        p.StandardOutput.ReadToEndAsync();
        Assert.True(started.Wait(TimeSpan.FromMinutes(3)), "training never started: " + err);
        using (var kill = Process.Start("kill", ["-TERM", p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) kill!.WaitForExit();
        Assert.True(p.WaitForExit(TimeSpan.FromMinutes(2)), "the process did not stop after SIGTERM");
        p.WaitForExit();
        string log;
        lock (err) log = err.ToString();
        Assert.Equal(130, p.ExitCode);
        Assert.Contains("terminate", log);
        Assert.True(File.Exists(Path.Combine(outDir, "float.safetensors")), log);
    }
}

/// <summary>A fact that reports as skipped, with the reason, off Linux (it sends a POSIX signal with <c>kill</c>).</summary>
public sealed class LinuxFactAttribute : FactAttribute
{
    public LinuxFactAttribute()
    {
        if (!OperatingSystem.IsLinux()) Skip = "needs Linux: the test sends SIGTERM with kill";
    }
}
