namespace Nanoq.Kernels;

/// <summary>
/// Splits the items [0, count) of a kernel (planes, channels) into one contiguous chunk per core and runs the
/// chunks on the thread pool, when the work is large enough to pay for the hand-off (a few µs).
/// Determinism: every item is processed by exactly one chunk and items never write to each other's outputs,
/// so results do not depend on how the items were split or on thread timing.
/// </summary>
internal static class WorkSplit
{
    /// <summary>Below this many touched elements a kernel runs on the calling thread.</summary>
    public const long MinParallelWork = 1 << 15;

    /// <summary>Runs <paramref name="body"/>(start, end) over chunks of [0, <paramref name="count"/>).</summary>
    /// <param name="workPerItem">Elements an item touches (an estimate of its cost).</param>
    public static void For(int count, long workPerItem, Action<int, int> body)
    {
        if (count <= 0) return;
        int threads = Environment.ProcessorCount;
        if (threads <= 1 || count == 1 || (long)count * workPerItem < MinParallelWork)
        {
            body(0, count);
            return;
        }
        int chunks = Math.Min(count, threads);
        Parallel.For(0, chunks, i =>
        {
            int start = (int)((long)count * i / chunks);
            int end = (int)((long)count * (i + 1) / chunks);
            body(start, end);
        });
    }
}
