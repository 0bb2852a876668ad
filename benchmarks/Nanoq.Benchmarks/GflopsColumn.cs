using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Nanoq.Benchmarks;

/// <summary>
/// GFLOP/s at the median time (<see cref="FlopCounts"/>), and the same as a share of the FP32 FMA peak of the
/// machine as <see cref="PeakBenchmarks"/> measures it when it runs in the same summary (else of
/// <see cref="NominalPeak"/>, the 2-core figure of DESIGN.md §8).
/// </summary>
public sealed class GflopsColumn(bool percentOfPeak) : IColumn
{
    /// <summary>DESIGN.md §8: ≈ 210 GFLOP/s a core, ≈ 410 for both (a Zen 5 with two 512-bit FMA pipes).</summary>
    public const double NominalPeak = 410;

    public string Id => percentOfPeak ? "PctPeak" : "GFLOPs";
    public string ColumnName => percentOfPeak ? "% of peak" : "GFLOP/s";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => percentOfPeak ? 1 : 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => percentOfPeak
        ? "GFLOP/s over the measured FMA peak (PeakBenchmarks in the same run, else the nominal 410)"
        : "Floating-point operations per second at the median time, in 10^9";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        double? gflops = Gflops(summary, benchmarkCase);
        if (gflops is null) return "-";
        if (!percentOfPeak) return gflops.Value.ToString("F1");
        double peak = MeasuredPeak(summary) ?? NominalPeak;
        return (100 * gflops.Value / peak).ToString("F0") + "%";
    }

    private static double? Gflops(Summary summary, BenchmarkCase benchmarkCase)
    {
        double? flops = FlopCounts.For(benchmarkCase);
        var stats = summary[benchmarkCase]?.ResultStatistics;
        if (flops is null || stats is null || stats.Median <= 0) return null;
        return flops.Value / stats.Median; // flops per ns = GFLOP/s
    }

    private static double? MeasuredPeak(Summary summary)
    {
        foreach (var b in summary.BenchmarksCases)
            if (b.Descriptor.Type == typeof(PeakBenchmarks)) return Gflops(summary, b);
        return null;
    }

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public bool IsAvailable(Summary summary) => true;
    public override string ToString() => ColumnName;
}
