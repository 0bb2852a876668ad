using BenchmarkDotNet.Running;

namespace Nanoq.Benchmarks;

/// <summary>Floating-point operations of one invocation of a benchmark (2 per multiply-add).</summary>
public static class FlopCounts
{
    /// <summary>The flops of <paramref name="benchmark"/>, or null when it has no meaningful count.</summary>
    public static double? For(BenchmarkCase benchmark)
    {
        var type = benchmark.Descriptor.Type;
        string method = benchmark.Descriptor.WorkloadMethod.Name;
        if (type == typeof(GemmBenchmarks))
        {
            var shape = (string)benchmark.Parameters["Shape"];
            var (m, n, k) = GemmBenchmarks.Parse(shape);
            return 2.0 * m * n * k;
        }
        if (type == typeof(ConvBenchmarks))
        {
            double fwd = ConvBenchmarks.Geometry.ForwardFlops;
            return method switch
            {
                nameof(ConvBenchmarks.Forward) => fwd,
                nameof(ConvBenchmarks.BackwardInput) => fwd,
                nameof(ConvBenchmarks.BackwardWeight) => fwd,
                nameof(ConvBenchmarks.ForwardBackward) => 3 * fwd,
                _ => null,
            };
        }
        if (type == typeof(PeakBenchmarks)) return PeakBenchmarks.Flops;
        return null;
    }
}
