using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;

namespace Nanoq.Integer.Benchmarks;

/// <summary>
/// A short job (the kernels run for milliseconds: 5 warm-ups and 25 measured iterations give stable medians on a quiet
/// machine), allocations reported (the integer kernels must allocate nothing per call), medians shown.
/// </summary>
public sealed class BenchConfig : ManualConfig
{
    public BenchConfig()
    {
        AddJob(Job.Default.WithWarmupCount(5).WithIterationCount(25).WithId("Kernels"));
        AddDiagnoser(MemoryDiagnoser.Default);
        AddColumn(BenchmarkDotNet.Columns.StatisticColumn.Median);
    }
}
