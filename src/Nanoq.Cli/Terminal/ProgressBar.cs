using System.Diagnostics;
using System.Globalization;

namespace Nanoq.Cli.Terminal;

/// <summary>
/// A one-line progress bar with rate and ETA for long stages, redrawn in place on a terminal
/// (<c>\r</c>) and printed as a plain line every 10% when the output is redirected (logs, CI).
/// </summary>
public sealed class ProgressBar
{
    private readonly TextWriter _out;
    private readonly string _label;
    private readonly int _total;
    private readonly string _unit;
    private readonly bool _interactive;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _lastDrawTicks = -1;
    private int _lastDecile = -1;

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
            // Redraw at most 10 times a second, and always at the end.
            if (done < _total && _lastDrawTicks >= 0 && _clock.ElapsedTicks - _lastDrawTicks < Stopwatch.Frequency / 10) return;
            _lastDrawTicks = _clock.ElapsedTicks;
            int width = 24, filled = (int)(frac * width);
            _out.Write($"\r{_label} [{new string('#', filled)}{new string('.', width - filled)}] {frac * 100,3:F0}% {done}/{_total} " +
                       $"{Format(rate)} {_unit}/s ETA {Clock(eta)} {info}   ");
            if (done >= _total) _out.WriteLine();
        }
        else
        {
            int decile = (int)(frac * 10);
            if (decile == _lastDecile && done < _total) return;
            _lastDecile = decile;
            _out.WriteLine($"{_label} {frac * 100,3:F0}% {done}/{_total} {Format(rate)} {_unit}/s ETA {Clock(eta)} {info}".TrimEnd());
        }
    }

    private static string Format(double v) => v.ToString(v >= 100 ? "F0" : v >= 10 ? "F1" : "F2", CultureInfo.InvariantCulture);

    public static string Clock(double seconds)
    {
        var t = TimeSpan.FromSeconds(Math.Max(0, seconds));
        return t.TotalHours >= 1 ? $"{(int)t.TotalHours}:{t.Minutes:D2}:{t.Seconds:D2}" : $"{t.Minutes}:{t.Seconds:D2}";
    }
}
