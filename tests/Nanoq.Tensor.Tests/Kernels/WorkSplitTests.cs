using Nanoq.Kernels;

namespace Nanoq.Tests.Kernels;

/// <summary>
/// <see cref="WorkSplit.Tasks"/>: every index once, each chunk of a kernel called from an item once (on the item's thread
/// or on one with no item left: ParallelNestingTests), failures surface.
/// </summary>
public class WorkSplitTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(7)]
    public void Tasks_runs_every_index_once_and_each_kernel_chunk_once(int count)
    {
        var runs = new int[count];
        var chunkRuns = new int[count, 8];
        WorkSplit.Tasks(count, i =>
        {
            Interlocked.Increment(ref runs[i]);
            WorkSplit.For(8, 1 << 20, (a, b) => { for (int j = a; j < b; j++) Interlocked.Increment(ref chunkRuns[i, j]); });
        });
        Assert.All(runs, r => Assert.Equal(1, r));
        Assert.All(chunkRuns.Cast<int>(), r => Assert.Equal(1, r));
    }

    [Fact]
    public void Tasks_rethrows_an_items_exception()
    {
        var e = Assert.Throws<InvalidOperationException>(() => WorkSplit.Tasks(4, i => { if (i == 2) throw new InvalidOperationException("item 2"); }));
        Assert.Equal("item 2", e.Message);
    }
}
