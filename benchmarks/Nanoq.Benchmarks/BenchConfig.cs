using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;

namespace Nanoq.Benchmarks;

/// <summary>
/// The benchmarks' configuration: a short job (these kernels run for milliseconds, so 5 warm-ups and 25 measured
/// iterations give stable medians), median and min next to the mean, allocations reported (steady state must
/// allocate nothing), GFLOP/s at the median.
/// </summary>
public sealed class BenchConfig : ManualConfig
{
    public BenchConfig()
    {
        AddJob(Job.Default.WithWarmupCount(5).WithIterationCount(25).WithId("Kernels"));
        AddDiagnoser(MemoryDiagnoser.Default);
        AddColumn(StatisticColumn.Median, StatisticColumn.Min);
        AddColumn(new GflopsColumn(percentOfPeak: false), new GflopsColumn(percentOfPeak: true));
    }
}
