using Nanoq.Kernels;

namespace Nanoq.Tests.Kernels;

/// <summary>Runs alone: whether a kernel region nests depends on no other test holding the kernel threads.</summary>
[CollectionDefinition(nameof(ParallelNestingTests), DisableParallelization = true)]
public sealed class ParallelNestingCollection;

/// <summary>
/// <see cref="ParallelRunner"/>'s nested regions: a kernel started inside a running region is shared with the region's
/// threads that lend themselves (<see cref="ParallelRunner.LendUntil"/>, or have run out of items), every task once;
/// task 0 runs on the calling thread; failures come out of the region that had them.
/// </summary>
[Collection(nameof(ParallelNestingTests))]
public class ParallelNestingTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Item 0 starts a two-chunk kernel whose chunk 0 (the caller's) waits for chunk 1: only a second thread can run it,
    /// and the only other thread is item 1, lending itself. Without nesting chunk 0 would wait out its patience.
    /// </summary>
    [Fact]
    public void A_kernel_inside_a_region_is_shared_with_a_lending_thread()
    {
        Threads.With(2, () =>
        {
            int released = 0, chunkOneDone = 0;
            var runs = new int[2];
            var chunkThreads = new int[2];
            bool helped = false;
            WorkSplit.Tasks(2, item =>
            {
                if (item == 1)
                {
                    ParallelRunner.LendUntil(ref released, 0);
                    return;
                }
                try
                {
                    WorkSplit.For(2, 1 << 20, (a, b) =>
                    {
                        for (int i = a; i < b; i++)
                        {
                            Interlocked.Increment(ref runs[i]);
                            chunkThreads[i] = Environment.CurrentManagedThreadId;
                            if (i == 1) Volatile.Write(ref chunkOneDone, 1);
                            else helped = SpinWait.SpinUntil(() => Volatile.Read(ref chunkOneDone) == 1, Patience);
                        }
                    });
                }
                finally
                {
                    Volatile.Write(ref released, 1);
                }
            });
            Assert.True(helped, "chunk 1 never ran while chunk 0 waited: the lending thread did not join the kernel");
            Assert.Equal([1, 1], runs);
            Assert.NotEqual(chunkThreads[0], chunkThreads[1]);
            return 0;
        });
    }

    /// <summary>A thread whose items are done lends itself while the others run: the long item's kernel gets it.</summary>
    [Fact]
    public void A_thread_out_of_items_joins_the_kernels_of_the_items_still_running()
    {
        Threads.With(2, () =>
        {
            int chunkOneDone = 0;
            bool helped = false;
            WorkSplit.Tasks(2, item =>
            {
                if (item == 1) return;   // the short item: its thread then lends
                WorkSplit.For(2, 1 << 20, (a, b) =>
                {
                    for (int i = a; i < b; i++)
                        if (i == 1) Volatile.Write(ref chunkOneDone, 1);
                        else helped = SpinWait.SpinUntil(() => Volatile.Read(ref chunkOneDone) == 1, Patience);
                });
            });
            Assert.True(helped, "chunk 1 never ran while chunk 0 waited");
            return 0;
        });
    }

    /// <summary>
    /// Many short nested regions of two body types in turn (each type has its own holder, cleared when its region ends)
    /// while the other item lends: a lender must never keep a region's job past its end — it would take the next
    /// region's tasks with a cleared body (a plain store closing the region let this happen once in a few thousand:
    /// x86 may reorder it after the owner's load of the joined count). Every task runs once, in its own region.
    /// </summary>
    [Fact]
    public void Back_to_back_nested_regions_never_mix()
    {
        Threads.With(2, () =>
        {
            const int Regions = 20000;
            int released = 0;
            var errors = new List<string>();
            WorkSplit.Tasks(2, item =>
            {
                if (item == 1)
                {
                    ParallelRunner.LendUntil(ref released, 0);
                    return;
                }
                try
                {
                    for (int r = 0; r < Regions && errors.Count < 10; r++)
                    {
                        var runs = new int[3];
                        try
                        {
                            if (r % 2 == 0) WorkSplit.For(3, 1 << 20, (a, b) => { for (int i = a; i < b; i++) Interlocked.Increment(ref runs[i]); });
                            else WorkSplit.Tasks(3, i => Interlocked.Increment(ref runs[i]));
                        }
                        catch (Exception e)
                        {
                            errors.Add($"region {r}: {e.GetType().Name} {e.Message}");
                        }
                        if (runs.Any(x => x != 1)) errors.Add($"region {r}: runs {string.Join(",", runs)}");
                    }
                }
                finally
                {
                    Volatile.Write(ref released, 1);
                }
            });
            Assert.Empty(errors);
            return 0;
        });
    }

    /// <summary>
    /// A nested region's task keeps its kernels on its own thread even after the region it nested in has ended (the
    /// pool free again): started as a top-level region, a kernel there would wait for workers, and a worker lending
    /// itself could be inside this very nested region, waiting for it — the deadlock a test run hit once. Thread X holds
    /// a region while thread P starts a nested one; X's region ends; P's task 0 then runs a two-chunk kernel whose chunk
    /// 0 waits briefly for chunk 1: both must run on P, one after the other.
    /// </summary>
    [Fact]
    public void A_nested_regions_kernels_stay_on_its_thread_after_the_outer_region_ends()
    {
        Threads.With(2, () =>
        {
            int xIn = 0, nPosted = 0, xDone = 0;
            var chunkThreads = new int[2];
            int pThread = 0;
            var x = new Thread(() =>
            {
                WorkSplit.Tasks(2, i =>
                {
                    if (i != 0) return;
                    Volatile.Write(ref xIn, 1);
                    SpinWait.SpinUntil(() => Volatile.Read(ref nPosted) == 1, Patience);
                });
                Volatile.Write(ref xDone, 1);
            });
            var p = new Thread(() =>
            {
                pThread = Environment.CurrentManagedThreadId;
                SpinWait.SpinUntil(() => Volatile.Read(ref xIn) == 1, Patience);
                WorkSplit.Tasks(2, t =>
                {
                    if (t != 0) return;
                    Volatile.Write(ref nPosted, 1);
                    SpinWait.SpinUntil(() => Volatile.Read(ref xDone) == 1, Patience);
                    int chunkOne = 0;
                    WorkSplit.For(2, 1 << 20, (a, b) =>
                    {
                        for (int i = a; i < b; i++)
                        {
                            chunkThreads[i] = Environment.CurrentManagedThreadId;
                            if (i == 1) Volatile.Write(ref chunkOne, 1);
                            else SpinWait.SpinUntil(() => Volatile.Read(ref chunkOne) == 1, TimeSpan.FromMilliseconds(200));
                        }
                    });
                });
            });
            x.Start();
            p.Start();
            Assert.True(p.Join(Patience) && x.Join(Patience), "the threads did not finish: a kernel waited for a worker stuck in its own nested region");
            Assert.Equal(1, Volatile.Read(ref xDone));
            Assert.Equal([pThread, pThread], chunkThreads);
            return 0;
        });
    }

    /// <summary>
    /// A region's tasks are dealt in ranges (<see cref="TaskRanges"/>): with two threads and four tasks the worker owns
    /// tasks 2 and 3. Task 0, the caller's, waits until another task has started, so only the worker can take the first
    /// one, and it takes the front of its own range — task 2, on the same thread in every call. A shared counter would
    /// give it task 1 first; ranges taken from the back, task 3.
    /// </summary>
    [Fact]
    public void A_worker_takes_the_front_of_its_own_range_and_keeps_it_from_call_to_call()
    {
        Threads.With(2, () =>
        {
            var workers = new HashSet<int>();
            for (int call = 0; call < 5; call++)
            {
                int first = -1, firstThread = 0, caller = Environment.CurrentManagedThreadId;
                WorkSplit.Tasks(4, t =>
                {
                    if (t == 0)
                    {
                        Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref first) >= 0, Patience), "no other thread took a task");
                        return;
                    }
                    if (Interlocked.CompareExchange(ref first, t, -1) == -1) firstThread = Environment.CurrentManagedThreadId;
                });
                Assert.Equal(2, first);
                Assert.NotEqual(caller, firstThread);
                workers.Add(firstThread);
            }
            Assert.Single(workers);
            return 0;
        });
    }

    [Fact]
    public void Task_zero_runs_on_the_calling_thread_and_every_task_once()
    {
        Threads.With(2, () =>
        {
            int caller = Environment.CurrentManagedThreadId;
            for (int repeat = 0; repeat < 50; repeat++)
            {
                var runs = new int[5];
                int first = -1;
                WorkSplit.Tasks(5, i =>
                {
                    Interlocked.Increment(ref runs[i]);
                    if (i == 0) first = Environment.CurrentManagedThreadId;
                });
                Assert.Equal(caller, first);
                Assert.All(runs, r => Assert.Equal(1, r));
            }
            return 0;
        });
    }

    /// <summary>
    /// Nested regions of many small tasks, started over and over from one item while another lends, some failing: every
    /// task runs once, a failure comes out of the kernel that had it (and only there), the region goes on.
    /// </summary>
    [Fact]
    public void Nested_regions_run_every_task_once_and_rethrow_their_failures()
    {
        Threads.With(2, () =>
        {
            int released = 0;
            var failures = 0;
            WorkSplit.Tasks(2, item =>
            {
                if (item == 1)
                {
                    ParallelRunner.LendUntil(ref released, 0);
                    return;
                }
                try
                {
                    for (int repeat = 0; repeat < 200; repeat++)
                    {
                        var runs = new int[37];
                        bool fail = repeat % 10 == 3;
                        try
                        {
                            WorkSplit.For(37, 1 << 20, (a, b) =>
                            {
                                for (int i = a; i < b; i++)
                                {
                                    Interlocked.Increment(ref runs[i]);
                                    if (fail && i == 36) throw new InvalidOperationException($"task {i}");
                                }
                            });
                            Assert.False(fail, $"repeat {repeat}: the failure did not come out");
                            Assert.All(runs, r => Assert.Equal(1, r));
                        }
                        catch (InvalidOperationException e) when (fail)
                        {
                            Assert.Equal("task 36", e.Message);
                            failures++;
                        }
                    }
                }
                finally
                {
                    Volatile.Write(ref released, 1);
                }
            });
            Assert.Equal(20, failures);
            return 0;
        });
    }
}
