using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;
using Nanoq.Kernels;

namespace Nanoq.Benchmarks;

/// <summary>
/// The machine's FP32 FMA peak as C# reaches it: every core runs 12 independent chains of <c>Vector512</c> FMAs
/// (<c>Vector256</c> where <see cref="Simd.Level"/> is AVX2: emulated 512-bit vectors would measure the emulation) on
/// registers (no memory traffic), so the GFLOP/s column is the ceiling for the other benchmarks. On the machine of
/// benchmarks/README.md this measures ≈ 117 GFLOP/s a core: one 512-bit FMA retires per cycle (256-bit FMAs retire
/// two), not the two 512-bit FMAs a cycle that DESIGN.md §8's 410 assumes.
/// </summary>
[Config(typeof(BenchConfig))]
public class PeakBenchmarks
{
    private const long Iterations = 16_000_000;

    private static bool Wide => Simd.Level == SimdLevel.Avx512;

    /// <summary>Flops of one <see cref="FmaPeak"/> call: per thread 12 FMAs × 16 (or 8) lanes × 2 per iteration.</summary>
    public static double Flops => (double)Environment.ProcessorCount * Iterations * 12 * (Wide ? 16 : 8) * 2;

    [Benchmark]
    public float FmaPeak()
    {
        // One dedicated thread per core (the thread pool may run both halves on one thread); starting them costs
        // ~0.1 ms of a ~50 ms call.
        int threads = Environment.ProcessorCount;
        var results = new float[threads];
        var workers = new Thread[threads];
        for (int t = 0; t < threads; t++)
        {
            int id = t;
            workers[t] = new Thread(() => results[id] = Wide ? Chains(Iterations, 1f + id) : Chains256(Iterations, 1f + id));
            workers[t].Start();
        }
        foreach (var w in workers) w.Join();
        return results.Sum();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static float Chains(long n, float seed)
    {
        var x = Vector512.Create(seed);
        var y = Vector512.Create(0.999f);
        Vector512<float> a0 = x, a1 = x + y, a2 = x, a3 = x, a4 = x, a5 = x, a6 = x, a7 = x, a8 = x, a9 = x, a10 = x, a11 = x;
        for (long i = 0; i < n; i++)
        {
            a0 = Vector512.FusedMultiplyAdd(a0, y, x);
            a1 = Vector512.FusedMultiplyAdd(a1, y, x);
            a2 = Vector512.FusedMultiplyAdd(a2, y, x);
            a3 = Vector512.FusedMultiplyAdd(a3, y, x);
            a4 = Vector512.FusedMultiplyAdd(a4, y, x);
            a5 = Vector512.FusedMultiplyAdd(a5, y, x);
            a6 = Vector512.FusedMultiplyAdd(a6, y, x);
            a7 = Vector512.FusedMultiplyAdd(a7, y, x);
            a8 = Vector512.FusedMultiplyAdd(a8, y, x);
            a9 = Vector512.FusedMultiplyAdd(a9, y, x);
            a10 = Vector512.FusedMultiplyAdd(a10, y, x);
            a11 = Vector512.FusedMultiplyAdd(a11, y, x);
        }
        return Vector512.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static float Chains256(long n, float seed)
    {
        var x = Vector256.Create(seed);
        var y = Vector256.Create(0.999f);
        Vector256<float> a0 = x, a1 = x + y, a2 = x, a3 = x, a4 = x, a5 = x, a6 = x, a7 = x, a8 = x, a9 = x, a10 = x, a11 = x;
        for (long i = 0; i < n; i++)
        {
            a0 = Vector256.FusedMultiplyAdd(a0, y, x);
            a1 = Vector256.FusedMultiplyAdd(a1, y, x);
            a2 = Vector256.FusedMultiplyAdd(a2, y, x);
            a3 = Vector256.FusedMultiplyAdd(a3, y, x);
            a4 = Vector256.FusedMultiplyAdd(a4, y, x);
            a5 = Vector256.FusedMultiplyAdd(a5, y, x);
            a6 = Vector256.FusedMultiplyAdd(a6, y, x);
            a7 = Vector256.FusedMultiplyAdd(a7, y, x);
            a8 = Vector256.FusedMultiplyAdd(a8, y, x);
            a9 = Vector256.FusedMultiplyAdd(a9, y, x);
            a10 = Vector256.FusedMultiplyAdd(a10, y, x);
            a11 = Vector256.FusedMultiplyAdd(a11, y, x);
        }
        return Vector256.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
    }
}
