namespace Nanoq.Quant.Kernels;

/// <summary>
/// Splits an element-wise job over the cores when it is big enough to pay for the hand-off. Chunks are multiples
/// of 64 elements, so every chunk but the last runs whole SIMD vectors, and each element's result is the same
/// whichever chunk computes it (the kernels are element-wise): the split never changes a bit of the output.
/// </summary>
internal static class Chunked
{
    /// <summary>Below this many elements one core does it all (a hand-off costs ≈ 10 µs; 128 Ki floats take ≈ 30 µs).</summary>
    public const int ParallelThreshold = 1 << 17;

    /// <summary>Runs body(start, length) over [0, n), in parallel chunks when n is large.</summary>
    public static void Run(int n, Action<int, int> body)
    {
        int workers = Environment.ProcessorCount;
        if (n < ParallelThreshold || workers < 2)
        {
            body(0, n);
            return;
        }
        int chunk = (n + workers - 1) / workers;
        chunk = (chunk + 63) & ~63;
        int count = (n + chunk - 1) / chunk;
        Parallel.For(0, count, i =>
        {
            int start = i * chunk;
            body(start, Math.Min(chunk, n - start));
        });
    }
}
