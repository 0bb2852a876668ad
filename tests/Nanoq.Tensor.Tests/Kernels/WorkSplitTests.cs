using Nanoq.Kernels;

namespace Nanoq.Tests.Kernels;

/// <summary><see cref="WorkSplit.Tasks"/>: every index once, kernels called from an item run on its thread, failures surface.</summary>
public class WorkSplitTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(7)]
    public void Tasks_runs_every_index_once_and_kernels_inside_stay_on_the_items_thread(int count)
    {
        var runs = new int[count];
        var chunkThreads = new List<int>[count];
        WorkSplit.Tasks(count, i =>
        {
            Interlocked.Increment(ref runs[i]);
            var threads = chunkThreads[i] = [];
            // A kernel's own split: with the pool busy it runs all its chunks on this thread.
            WorkSplit.For(8, 1 << 20, (a, b) => { lock (threads) threads.Add(Environment.CurrentManagedThreadId); });
        });
        Assert.All(runs, r => Assert.Equal(1, r));
        if (count > 1)
            Assert.All(chunkThreads, t => Assert.Single(t.Distinct()));
    }

    [Fact]
    public void Tasks_rethrows_an_items_exception()
    {
        var e = Assert.Throws<InvalidOperationException>(() => WorkSplit.Tasks(4, i => { if (i == 2) throw new InvalidOperationException("item 2"); }));
        Assert.Equal("item 2", e.Message);
    }
}
