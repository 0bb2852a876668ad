namespace Nanoq.Kernels;

/// <summary>
/// Long elementwise passes cut between the kernel threads: [0, n) as one range per thread, cut on 16-float
/// boundaries (whole vectors). An elementwise result does not depend on the cut. Why: a ReLU or a residual add over a
/// ResNet-18 activation at batch 8 (8 × 64 × 112 × 112 floats, 26 MB) is bound by one core's memory bandwidth, and the
/// other core waited through it: in a ResNet-18 training step these passes were ≈ 4 % of the first core's samples and
/// none of the second's (perf, 21:58).
/// </summary>
internal static class ElementwiseSplit
{
    /// <summary>Passes shorter than this (1 MiB of floats) stay on the calling thread: the hand-off costs more.</summary>
    public const int MinParallelElements = 1 << 18;

    /// <summary>A pass over a range of elements.</summary>
    public interface IRange
    {
        void Run(int start, int length);
    }

    /// <summary><paramref name="body"/>.Run over [0, n), split when n is large.</summary>
    public static void Run<T>(int n, ref T body) where T : struct, IRange
    {
        int threads = ParallelRunner.MaxDegreeOfParallelism;
        if (n < MinParallelElements || threads <= 1)
        {
            body.Run(0, n);
            return;
        }
        var task = new Part<T> { Body = body, N = n, Parts = threads };
        ParallelRunner.Run(threads, ref task);
    }

    private struct Part<T> : IParallelBody where T : struct, IRange
    {
        public T Body;
        public int N, Parts;

        public void Invoke(int part)
        {
            int start = Cut(part), end = Cut(part + 1);
            if (end > start) Body.Run(start, end - start);
        }

        private readonly int Cut(int part) => part == Parts ? N : (int)((long)N * part / Parts) & ~15;
    }
}
