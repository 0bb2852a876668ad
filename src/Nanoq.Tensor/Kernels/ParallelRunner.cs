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
/// Which thread runs which task: contiguous ranges (<see cref="TaskRanges"/>), thread slot k (the caller 0, worker k)
/// owning [k·n/d, (k+1)·n/d) and taking the others' from the back once its own are done — in nested regions too, by the
/// same slots whichever thread owns the region. So a task runs on the same thread from call to call and mostly on the
/// thread that wrote its input in the layer before; where the VM's two cores do not share an L3, that is what keeps
/// cache lines from crossing between them.
/// </para>
/// <para>
/// Determinism: callers make every task write a disjoint part of the output (or a private partial that is
/// reduced afterwards in a fixed order), so which thread runs which task never changes a result.
/// </para>
/// <para>
/// Nesting: one top-level region runs at a time. A call made while the pool is busy (from a task, or from another
/// thread) is a nested region — one at a time, a further call runs all its tasks on the calling thread, same results,
/// just serial. The caller runs its tasks and posts them for the threads of the running region that have nothing to do
/// (<see cref="LendUntil"/>, or out of tasks: <see cref="LendWhileTasksRun"/>), which spin and join it. Why: a region of
/// coarse items (<see cref="WorkSplit.Tasks"/>: a program's branches, groups of images) often has fewer items ready than
/// threads — a backbone is a chain of ops — and its idle threads would otherwise wait while one item's kernels run on
/// one core; a spinning thread joins in about a microsecond, where a sleeping worker wakes 50–70 µs late on this VM.
/// </para>
/// </summary>
public static class ParallelRunner
{
    private static int s_maxDegree = DefaultDegree();
    private static int s_busy;

    // Job state, written by the owner of s_busy before the workers are released.
    private static ParallelJob? s_job;
    private static readonly TaskRanges s_tasks = new();
    private static int s_degree;   // threads of the running top-level region: the slots its nested regions deal to
    private static int s_running;   // tasks taken and not finished (task 0 included)
    private static int s_pendingWorkers;
    private static Exception? s_error;

    // The nested region (one at a time), run by a task of the region above with the threads that lend themselves.
    private static int s_lenders;           // threads in LendUntil or LendWhileTasksRun
    private static int s_nestedBusy;        // owned by the task that runs the nested region
    private static ParallelJob? s_nestedJob;   // non-null while its tasks are handed out
    private static readonly TaskRanges s_nestedTasks = new();
    private static int s_nestedActive;
    private static Exception? s_nestedError;
    [ThreadStatic] private static int t_inNested;   // this thread runs a nested region's task (or owns the region)
    [ThreadStatic] private static int t_slot;       // worker k's slot, k; 0 on any other thread (a region's caller)

    // Worker k (slot k + 1) sleeps on s_wake[k]: a region of degree d wakes workers 0 … d − 2, the same threads for the
    // same slots every call (TaskRanges' affinity needs it).
    private static Thread[] s_workers = [];
    private static SemaphoreSlim[] s_wake = [];
    private static readonly object s_startLock = new();

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
    /// Whether a region started now is nested in a running one (<see cref="LendUntil"/>): the threads that share it are
    /// spinning, so a hand-off costs about a microsecond instead of a sleeping worker's wake-up.
    /// </summary>
    internal static bool IsNested => Volatile.Read(ref s_busy) != 0;

    /// <summary>
    /// Whether a thread is lending itself right now (<see cref="LendUntil"/>, or out of tasks): a nested region started
    /// now will be shared. Kernels that pay for a finer split (work done again per part) split only then.
    /// </summary>
    internal static bool HasLenders => Volatile.Read(ref s_lenders) != 0;

    /// <summary>
    /// Runs <c>body.Invoke(t)</c> for every t in [0, <paramref name="taskCount"/>), in parallel when possible — on the
    /// calling thread alone when <paramref name="parallel"/> is false (work too small to repay a hand-off; measured by
    /// the kernel that asks). Task 0 always runs on the calling thread (first), so a body may keep thread-bound work
    /// (the autograd tape, no-grad mode) to it.
    /// </summary>
    internal static void Run<TBody>(int taskCount, ref TBody body, bool parallel = true) where TBody : struct, IParallelBody
    {
        if (taskCount <= 0) return;
        int degree = parallel ? Math.Min(s_maxDegree, taskCount) : 1;
        // A task of a nested region (or its owner, inside it) runs its kernels alone, even if the top-level region has
        // ended meanwhile: a region of its own would wait for workers that may be inside this nested region, waiting for it.
        if (degree <= 1 || t_inNested != 0)
        {
            for (int t = 0; t < taskCount; t++) body.Invoke(t);
            return;
        }
        if (Interlocked.CompareExchange(ref s_busy, 1, 0) != 0)
        {
            // Posted even with no lender yet: a thread that runs out of work mid-way joins it then.
            if (Interlocked.CompareExchange(ref s_nestedBusy, 1, 0) != 0)
            {
                for (int t = 0; t < taskCount; t++) body.Invoke(t);
                return;
            }
            RunNested(taskCount, ref body);
            return;
        }
        try
        {
            EnsureWorkers(degree - 1);
            var job = ParallelJobHolder<TBody>.Instance;
            job.Body = body;
            s_job = job;
            s_error = null;
            Volatile.Write(ref s_running, 1);
            s_tasks.Deal(1, taskCount, degree);   // task 0 is the caller's
            s_degree = degree;
            Volatile.Write(ref s_pendingWorkers, degree - 1);
            for (int k = 0; k < degree - 1; k++) s_wake[k].Release();

            Invoke(job, 0);
            Interlocked.Decrement(ref s_running);
            Drain(job, 0);
            LendWhileTasksRun();

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

    /// <summary>A region inside a running one, shared with the threads in <see cref="LendUntil"/> (the caller owns s_nestedBusy).</summary>
    private static void RunNested<TBody>(int taskCount, ref TBody body) where TBody : struct, IParallelBody
    {
        var job = ParallelJobHolder<TBody>.Nested;
        t_inNested++;
        try
        {
            job.Body = body;
            s_nestedError = null;
            // Dealt by thread slot, not by role: whichever thread owns the region, each thread takes the same part of it.
            s_nestedTasks.Deal(1, taskCount, Math.Max(s_degree, 1));   // task 0 is the caller's
            Volatile.Write(ref s_nestedJob, job);
            InvokeNested(job, 0);
            DrainNested(job);
            // Closed: a lender that joins from now finds no job. Wait for those that joined before. A locked exchange,
            // not a plain store: x86 may let the load of s_nestedActive below pass a store, and a lender that joined
            // unseen would then keep this job — and take tasks from the next region's counter with this body cleared.
            Interlocked.Exchange(ref s_nestedJob, null);
            var spin = new SpinWait();
            while (Volatile.Read(ref s_nestedActive) != 0) spin.SpinOnce(sleep1Threshold: -1);
            job.Body = default;
            if (s_nestedError is { } e)
            {
                s_nestedError = null;
                ExceptionDispatchInfo.Capture(e).Throw();
            }
        }
        finally
        {
            t_inNested--;
            Volatile.Write(ref s_nestedBusy, 0);
        }
    }

    private static void DrainNested(ParallelJob job)
    {
        for (int t; (t = s_nestedTasks.Take(t_slot)) >= 0;) InvokeNested(job, t);
    }

    /// <summary>Task <paramref name="t"/> of the top-level region; a failure is kept (the first) and stops the handing out of tasks.</summary>
    private static void Invoke(ParallelJob job, int t)
    {
        try
        {
            job.Invoke(t);
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref s_error, e, null);
            s_tasks.Stop();   // the region is failing anyway
        }
    }

    /// <summary>The same for a task of the nested region.</summary>
    private static void InvokeNested(ParallelJob job, int t)
    {
        try
        {
            job.Invoke(t);
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref s_nestedError, e, null);
            s_nestedTasks.Stop();
        }
    }

    /// <summary>
    /// Lends the calling thread — a task of a running region with nothing to do for now — to the kernels that the
    /// region's other tasks start, until <paramref name="counter"/> differs from <paramref name="seen"/> (another task
    /// signals that there is work for this one again, or that the region is over). The thread spins meanwhile (pausing,
    /// yielding now and then): a woken sleeper starts 50–70 µs late on this VM, longer than most of the kernels it is
    /// meant to help.
    /// </summary>
    public static void LendUntil(ref int counter, int seen)
    {
        if (t_inNested != 0)
        {
            // A task of the nested region itself (regions nest one level): it only waits — the owner of the counter
            // runs on another thread.
            var wait = new SpinWait();
            while (Volatile.Read(ref counter) == seen) wait.SpinOnce(sleep1Threshold: -1);
            return;
        }
        Lend(ref counter, seen, whileEqual: true);
    }

    /// <summary>
    /// Spins, running the posted nested region's tasks when there is one, while (<paramref name="counter"/> ==
    /// <paramref name="value"/>) == <paramref name="whileEqual"/>; counted in <see cref="HasLenders"/> meanwhile.
    /// </summary>
    private static void Lend(ref int counter, int value, bool whileEqual)
    {
        Interlocked.Increment(ref s_lenders);
        var spin = new SpinWait();
        while ((Volatile.Read(ref counter) == value) == whileEqual)
        {
            if (TryHelpNested()) spin.Reset();
            else spin.SpinOnce(sleep1Threshold: -1);
        }
        Interlocked.Decrement(ref s_lenders);
    }

    /// <summary>Runs tasks of the posted nested region, if there is one; whether there was.</summary>
    private static bool TryHelpNested()
    {
        if (Volatile.Read(ref s_nestedJob) is null) return false;
        Interlocked.Increment(ref s_nestedActive);
        // Re-read after joining: the owner closes the region before it waits for the joined, so a job seen now is still
        // running (its tasks may all be taken: then the drain returns at once).
        if (Volatile.Read(ref s_nestedJob) is { } job)
        {
            t_inNested++;
            try { DrainNested(job); }
            finally { t_inNested--; }
        }
        Interlocked.Decrement(ref s_nestedActive);
        return true;
    }

    /// <summary>Runs the top-level region's tasks as thread <paramref name="slot"/> (<see cref="TaskRanges"/>) until none is left.</summary>
    private static void Drain(ParallelJob job, int slot)
    {
        while (true)
        {
            Interlocked.Increment(ref s_running);   // before the take, so that a thread that sees no task left sees this one run
            int t = s_tasks.Take(slot);
            if (t >= 0) Invoke(job, t);
            Interlocked.Decrement(ref s_running);
            if (t < 0) return;
        }
    }

    /// <summary>
    /// A thread of the region that found no task left lends itself (<see cref="LendUntil"/>'s rule) while the other
    /// tasks run: items of uneven length (groups of images, a program's branches) end one by one, and the last one's
    /// kernels then get the idle threads.
    /// </summary>
    private static void LendWhileTasksRun()
    {
        if (Volatile.Read(ref s_running) != 0) Lend(ref s_running, 0, whileEqual: false);
    }

    private static void EnsureWorkers(int count)
    {
        if (s_workers.Length >= count) return;
        lock (s_startLock)
        {
            if (s_workers.Length >= count) return;
            var workers = new Thread[count];
            var wake = new SemaphoreSlim[count];
            Array.Copy(s_workers, workers, s_workers.Length);
            Array.Copy(s_wake, wake, s_wake.Length);
            for (int i = s_workers.Length; i < count; i++) wake[i] = new SemaphoreSlim(0);
            s_wake = wake;
            for (int i = s_workers.Length; i < count; i++)
            {
                int slot = i + 1;
                workers[i] = new Thread(() => WorkerLoop(slot)) { IsBackground = true, Name = $"Nanoq kernel worker {slot}" };
                workers[i].Start();
            }
            s_workers = workers;
        }
    }

    private static void WorkerLoop(int slot)
    {
        var wake = s_wake[slot - 1];
        t_slot = slot;
        while (true)
        {
            // SemaphoreSlim spins briefly before it blocks, so back-to-back kernels wake fast.
            wake.Wait();
            var job = s_job;
            if (job is not null)
            {
                Drain(job, slot);
                LendWhileTasksRun();
            }
            Interlocked.Decrement(ref s_pendingWorkers);
        }
    }
}
