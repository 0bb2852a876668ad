using System.Runtime.ExceptionServices;

namespace Nanoq.Kernels;

/// <summary>
/// A small persistent pool of worker threads for the heavy kernels (GEMM, convolution). A call
/// <see cref="Run{TBody}(int, ref TBody)"/> hands out task indices [0, count) to the calling thread and the
/// workers; each index runs exactly once.
/// <para>
/// Why not <c>Parallel.For</c>: it allocates per call, and with two tasks the calling thread often runs both
/// before a pool thread arrives. This pool allocates nothing in steady state; its workers spin briefly in
/// <see cref="SemaphoreSlim"/> before they block, so back-to-back kernels hand off quickly.
/// </para>
/// <para>
/// Determinism: callers make every task write a disjoint part of the output (or a private partial that is
/// reduced afterwards in a fixed order), so which thread runs which task never changes a result.
/// </para>
/// <para>
/// Re-entrancy: one parallel region runs at a time. A call made while the pool is busy (from a task, or
/// from another thread) runs all its tasks on the calling thread — same results, just serial.
/// </para>
/// </summary>
public static class ParallelRunner
{
    private static int s_maxDegree = DefaultDegree();
    private static int s_busy;

    // Job state, written by the owner of s_busy before the workers are released.
    private static ParallelJob? s_job;
    private static int s_taskCount;
    private static int s_nextTask;
    private static int s_pendingWorkers;
    private static Exception? s_error;

    private static Thread[] s_workers = [];
    private static readonly object s_startLock = new();
    private static readonly SemaphoreSlim s_wake = new(0);

    /// <summary>
    /// Threads a kernel may use (the caller included). Defaults to the environment variable
    /// <c>NANOQ_NUM_THREADS</c> when set, else <see cref="Environment.ProcessorCount"/>. Set it to 1 to run
    /// everything on the calling thread. Results do not depend on it.
    /// </summary>
    public static int MaxDegreeOfParallelism
    {
        get => s_maxDegree;
        set
        {
            if (value < 1) throw new ArgumentOutOfRangeException(nameof(value), value, "MaxDegreeOfParallelism must be at least 1.");
            s_maxDegree = value;
        }
    }

    private static int DefaultDegree()
    {
        string? env = Environment.GetEnvironmentVariable("NANOQ_NUM_THREADS");
        if (env is not null && int.TryParse(env, out int n) && n >= 1) return n;
        return Math.Max(1, Environment.ProcessorCount);
    }

    /// <summary>
    /// Runs <c>body.Invoke(t)</c> for every t in [0, <paramref name="taskCount"/>), in parallel when possible — on the
    /// calling thread alone when <paramref name="parallel"/> is false (work too small to repay a hand-off; measured by
    /// the kernel that asks).
    /// </summary>
    internal static void Run<TBody>(int taskCount, ref TBody body, bool parallel = true) where TBody : struct, IParallelBody
    {
        if (taskCount <= 0) return;
        int degree = parallel ? Math.Min(s_maxDegree, taskCount) : 1;
        if (degree <= 1 || Interlocked.CompareExchange(ref s_busy, 1, 0) != 0)
        {
            for (int t = 0; t < taskCount; t++) body.Invoke(t);
            return;
        }
        try
        {
            EnsureWorkers(degree - 1);
            var job = ParallelJobHolder<TBody>.Instance;
            job.Body = body;
            s_job = job;
            s_error = null;
            s_taskCount = taskCount;
            Volatile.Write(ref s_nextTask, 0);
            Volatile.Write(ref s_pendingWorkers, degree - 1);
            s_wake.Release(degree - 1);

            Drain(job);

            var spin = new SpinWait();
            while (Volatile.Read(ref s_pendingWorkers) != 0) spin.SpinOnce(sleep1Threshold: -1);
            job.Body = default;
            s_job = null;
            if (s_error is { } e)
            {
                s_error = null;
                ExceptionDispatchInfo.Capture(e).Throw();
            }
        }
        finally
        {
            Volatile.Write(ref s_busy, 0);
        }
    }

    private static void Drain(ParallelJob job)
    {
        int count = s_taskCount;
        while (true)
        {
            int t = Interlocked.Increment(ref s_nextTask) - 1;
            if (t >= count) return;
            try
            {
                job.Invoke(t);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref s_error, e, null);
                // Stop handing out tasks: the region is failing anyway.
                Volatile.Write(ref s_nextTask, count);
            }
        }
    }

    private static void EnsureWorkers(int count)
    {
        if (s_workers.Length >= count) return;
        lock (s_startLock)
        {
            if (s_workers.Length >= count) return;
            var workers = new Thread[count];
            Array.Copy(s_workers, workers, s_workers.Length);
            for (int i = s_workers.Length; i < count; i++)
            {
                workers[i] = new Thread(WorkerLoop) { IsBackground = true, Name = $"Nanoq kernel worker {i + 1}" };
                workers[i].Start();
            }
            s_workers = workers;
        }
    }

    private static void WorkerLoop()
    {
        while (true)
        {
            // SemaphoreSlim spins briefly before it blocks, so back-to-back kernels wake fast.
            s_wake.Wait();
            var job = s_job;
            if (job is not null) Drain(job);
            Interlocked.Decrement(ref s_pendingWorkers);
        }
    }
}
