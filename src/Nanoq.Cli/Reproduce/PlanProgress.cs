using System.Diagnostics;
using System.Globalization;

namespace Nanoq.Cli.Reproduce;

/// <summary>
/// Progress and ETA for the whole plan: before each cell, "[k/n] label — cell ≈ t, plan ETA T". The remaining time is
/// the cost model's estimate of the cells still to run, scaled by how far the model was off on the cells this process
/// has run so far (measured / estimated), so the ETA corrects itself on a slower or busier machine.
/// </summary>
public sealed class PlanProgress(TextWriter log, IReadOnlyList<CellSpec> toRun)
{
    private readonly Dictionary<string, double> _estimate = toRun.ToDictionary(c => c.Id, CostModel.Seconds);
    private double _measured, _estimatedDone;
    private int _done;
    private readonly Stopwatch _cell = new();

    /// <summary>Measured over estimated, from the cells finished in this process (1 before any).</summary>
    public double Scale => _estimatedDone > 0 ? _measured / _estimatedDone : 1;

    public double RemainingSeconds => Scale * toRun.Skip(_done).Sum(c => _estimate[c.Id]);

    public void Start(CellSpec cell)
    {
        log.WriteLine($"[{_done + 1}/{toRun.Count}] {cell.Label} ({cell.Id}) — this cell ≈ {Clock(Scale * _estimate[cell.Id])}, the plan's remaining ≈ {Clock(RemainingSeconds)}");
        _cell.Restart();
    }

    /// <summary>Records the cell's time; returns it.</summary>
    public double Finish(CellSpec cell)
    {
        double t = _cell.Elapsed.TotalSeconds;
        _measured += t;
        _estimatedDone += _estimate[cell.Id];
        _done++;
        return t;
    }

    public static string Clock(double seconds)
    {
        var t = TimeSpan.FromSeconds(Math.Max(0, Math.Round(seconds)));
        return t.TotalHours >= 1 ? string.Create(CultureInfo.InvariantCulture, $"{(int)t.TotalHours}:{t:mm\\:ss}") : t.ToString(@"m\:ss", CultureInfo.InvariantCulture);
    }
}
