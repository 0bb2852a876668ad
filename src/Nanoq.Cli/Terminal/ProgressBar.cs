using System.Diagnostics;
using System.Globalization;
using Spectre.Console;

namespace Nanoq.Cli.Terminal;

/// <summary>
/// A progress bar with rate and ETA for long stages. On a terminal it is Spectre.Console's live progress display (bar,
/// percentage, elapsed and remaining time, redrawn in place); when the output is redirected (logs, CI, tests' writers)
/// it is a plain line every 10%: "LABEL  40% 4/10 2.50 step/s ETA 0:02 INFO".
/// </summary>
public sealed class ProgressBar : IDisposable
{
    private static readonly List<ProgressBar> Live = [];

    private readonly TextWriter _out;
    private readonly string _label;
    private readonly int _total;
    private readonly string _unit;
    private readonly bool _interactive;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private int _lastDecile = -1;

    // The live display (interactive only): Spectre's Progress runs on its own thread until Stop.
    private readonly ManualResetEventSlim _ready = new(), _stop = new();
    private ProgressTask? _task;
    private Task? _display;

    public ProgressBar(TextWriter output, string label, int total, string unit = "it", bool? interactive = null)
    {
        _out = output;
        _label = label;
        _total = Math.Max(1, total);
        _unit = unit;
        _interactive = interactive ?? (!Console.IsErrorRedirected && ReferenceEquals(output, Console.Error));
    }

    public TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>Reports that <paramref name="done"/> of the total are finished; <paramref name="info"/> is appended (e.g. "loss 0.42").</summary>
    public void Report(int done, string info = "", int startedAt = 0)
    {
        double secs = _clock.Elapsed.TotalSeconds;
        double rate = secs > 0 ? (done - startedAt) / secs : 0;
        double eta = rate > 0 ? (_total - done) / rate : 0;
        double frac = Math.Clamp((double)done / _total, 0, 1);
        if (_interactive)
        {
            var task = Start();
            task.Description = Markup.Escape($"{_label} {done}/{_total} {Format(rate)} {_unit}/s {info}".TrimEnd());
            task.Value = Math.Min(done, _total);
            if (done >= _total) Stop();
        }
        else
        {
            int decile = (int)(frac * 10);
            if (decile == _lastDecile && done < _total) return;
            _lastDecile = decile;
            _out.WriteLine($"{_label} {frac * 100,3:F0}% {done}/{_total} {Format(rate)} {_unit}/s ETA {Clock(eta)} {info}".TrimEnd());
        }
    }

    private ProgressTask Start()
    {
        if (_task is not null) return _task;
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(_out) });
        var progress = console.Progress().AutoClear(false).HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                     new ElapsedTimeColumn(), new RemainingTimeColumn());
        _display = Task.Factory.StartNew(() => progress.Start(ctx =>
        {
            _task = ctx.AddTask(Markup.Escape(_label), maxValue: _total);
            _ready.Set();
            while (!_stop.Wait(100)) ctx.Refresh();
            ctx.Refresh();
        }), TaskCreationOptions.LongRunning);
        lock (Live) Live.Add(this);
        _ready.Wait();
        return _task!;
    }

    /// <summary>Ends the live display (its last state stays on the screen); a no-op for the plain lines.</summary>
    public void Stop()
    {
        if (_display is null) return;
        _stop.Set();
        _display.Wait();
        _display = null;
        lock (Live) Live.Remove(this);
    }

    public void Dispose() => Stop();

    /// <summary>Ends every live display still running (a stage that ended by an exception, e.g. Ctrl-C).</summary>
    public static void StopAll()
    {
        ProgressBar[] live;
        lock (Live) live = [.. Live];
        foreach (var bar in live) bar.Stop();
    }

    private static string Format(double v) => v.ToString(v >= 100 ? "F0" : v >= 10 ? "F1" : "F2", CultureInfo.InvariantCulture);

    public static string Clock(double seconds)
    {
        var t = TimeSpan.FromSeconds(Math.Max(0, seconds));
        return t.TotalHours >= 1 ? $"{(int)t.TotalHours}:{t.Minutes:D2}:{t.Seconds:D2}" : $"{t.Minutes}:{t.Seconds:D2}";
    }
}
