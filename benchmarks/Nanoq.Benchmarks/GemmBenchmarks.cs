using BenchmarkDotNet.Attributes;
using Nanoq.Kernels;

namespace Nanoq.Benchmarks;

/// <summary>
/// SGEMM C = A·B (row-major, no transposes, β = 0) on the brief's shapes: square 512³ and 1024³, and the GEMMs of
/// a 3×3 conv on 56² with 64 channels (64 × 3136 × 576) and of a 14² layer with 256 channels (256 × 196 × 2304).
/// Runs on <see cref="ParallelRunner.MaxDegreeOfParallelism"/> threads (all cores by default).
/// </summary>
[Config(typeof(BenchConfig))]
public class GemmBenchmarks
{
    private float[] _a = [], _b = [], _c = [];
    private int _m, _n, _k;

    [Params("512x512x512", "1024x1024x1024", "64x3136x576", "256x196x2304")]
    public string Shape { get; set; } = "512x512x512";

    [Params(false, true)]
    public bool TransposeB { get; set; }

    public static (int M, int N, int K) Parse(string shape)
    {
        var p = shape.Split('x');
        return (int.Parse(p[0]), int.Parse(p[1]), int.Parse(p[2]));
    }

    [GlobalSetup]
    public void Setup()
    {
        (_m, _n, _k) = Parse(Shape);
        var rng = new Random(1);
        _a = Fill(rng, _m * _k);
        _b = Fill(rng, _k * _n);
        _c = new float[_m * _n];
    }

    internal static float[] Fill(Random rng, int n)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float)rng.NextDouble() - 0.5f;
        return x;
    }

    [Benchmark]
    public void Sgemm() =>
        Gemm.Sgemm(false, TransposeB, _m, _n, _k, 1f, _a, _k, _b, TransposeB ? _k : _n, 0f, _c, _n);
}
