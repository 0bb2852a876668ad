using System.Runtime.ExceptionServices;

namespace Nanoq.Kernels;

/// <summary>
/// The one helper for parallel loops over independent items outside the GEMM/conv drivers (which use
/// <see cref="ParallelRunner"/> directly): <see cref="For"/> splits the items [0, count) of a kernel (planes, channels,
/// elements) into one contiguous chunk per kernel thread and runs them on <see cref="ParallelRunner"/>'s threads (as the
/// GEMM and conv do: no thread-pool hand-off, no allocation but the caller's closure, and
/// <see cref="ParallelRunner.MaxDegreeOfParallelism"/> respected), when the work is large enough to pay for the
/// hand-off; <see cref="Each"/> runs coarse items (decoding an image, writing a file) one thread-pool task each and fails
/// like the sequential loop would.
/// Determinism: every item is processed by exactly one chunk and items never write to each other's outputs,
/// so results do not depend on how the items were split or on thread timing.
/// </summary>
public static class WorkSplit
{
    /// <summary>Below this many touched elements a kernel runs on the calling thread.</summary>
    public const long MinParallelWork = 1 << 15;

    /// <summary>Runs <paramref name="body"/>(start, end) over chunks of [0, <paramref name="count"/>).</summary>
    /// <param name="workPerItem">Elements an item touches (an estimate of its cost).</param>
    public static void For(int count, long workPerItem, Action<int, int> body)
    {
        if (count <= 0) return;
        int threads = ParallelRunner.MaxDegreeOfParallelism;
        if (threads <= 1 || count == 1 || (long)count * workPerItem < MinParallelWork)
        {
            body(0, count);
            return;
        }
        var chunks = new WorkSplitChunks { Count = count, Chunks = Math.Min(count, threads), Body = body };
        ParallelRunner.Run(chunks.Chunks, ref chunks);
    }

    /// <summary>
    /// <paramref name="body"/>(i) for every i in [0, <paramref name="count"/>) on the kernel threads (coarse items of uneven
    /// cost: a group of images through a whole program): dealt in ranges, a thread that runs out of its own taking any item
    /// not started yet (<see cref="TaskRanges"/>); item 0 on the calling thread. The items, not the kernels, are what runs
    /// side by side: a kernel an item calls is a nested region, shared only with threads that have no item to run (out of
    /// items, or in <see cref="ParallelRunner.LendUntil"/>), else run on the item's thread. An exception is rethrown after the region, as from <see cref="For"/>.
    /// </summary>
    public static void Tasks(int count, Action<int> body)
    {
        if (count <= 0) return;
        var tasks = new WorkSplitTasks { Body = body };
        ParallelRunner.Run(count, ref tasks);
    }

    /// <summary>
    /// <paramref name="body"/>(i) for every i in [0, <paramref name="count"/>) in parallel; if any throw, the exception of
    /// the lowest failing index is rethrown with its stack, as a sequential loop would have thrown it first.
    /// </summary>
    public static void Each(int count, Action<int> body)
    {
        var errors = new Exception?[count];
        Parallel.For(0, count, (i, state) =>
        {
            try
            {
                body(i);
            }
            catch (Exception ex)
            {
                errors[i] = ex;
                // Break (not Stop): iterations below i still run, so the lowest failing index is found.
                state.Break();
            }
        });
        foreach (var ex in errors)
            if (ex is not null) ExceptionDispatchInfo.Capture(ex).Throw();
    }
}
