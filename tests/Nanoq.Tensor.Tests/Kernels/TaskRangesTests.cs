using Nanoq.Kernels;

namespace Nanoq.Tests.Kernels;

/// <summary>
/// <see cref="TaskRanges"/>: each slot owns a contiguous range and takes it front first, then the others' from the back;
/// every task is handed out exactly once, also under contention; nothing after <see cref="TaskRanges.Stop"/>.
/// </summary>
public class TaskRangesTests
{
    private static List<int> Drain(TaskRanges ranges, int slot)
    {
        var taken = new List<int>();
        for (int t; (t = ranges.Take(slot)) >= 0;) taken.Add(t);
        return taken;
    }

    [Fact]
    public void A_slot_takes_its_own_range_from_the_front_then_the_others_from_the_back()
    {
        var ranges = new TaskRanges();
        ranges.Deal(1, 10, 3);   // slot 0: [1, 3), slot 1: [3, 6), slot 2: [6, 10)
        Assert.Equal(3, ranges.Take(1));
        Assert.Equal(4, ranges.Take(1));
        Assert.Equal(6, ranges.Take(2));
        // Slot 0 takes 1 and 2, then the back of slot 1's range (5), then slot 2's from the back.
        Assert.Equal([1, 2, 5, 9, 8, 7], Drain(ranges, 0));
        Assert.Equal(-1, ranges.Take(1));
        Assert.Equal(-1, ranges.Take(2));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]    // the caller's range is empty after task 0
    [InlineData(3, 2)]
    [InlineData(5, 4)]
    [InlineData(100, 3)]
    public void Every_task_but_the_callers_first_is_dealt_once(int count, int slots)
    {
        var ranges = new TaskRanges();
        ranges.Deal(1, count, slots);
        var taken = new List<int>();
        for (int slot = slots - 1; slot >= 0; slot--) taken.AddRange(Drain(ranges, slot));
        Assert.Equal(Enumerable.Range(1, count - 1), taken.Order());
    }

    [Fact]
    public void A_larger_deal_after_a_smaller_one_reuses_the_ranges()
    {
        var ranges = new TaskRanges();
        ranges.Deal(0, 4, 2);
        Assert.Equal([0, 1, 3, 2], Drain(ranges, 0));
        ranges.Deal(0, 12, 6);
        Assert.Equal([10, 11, 1, 0, 3, 2, 5, 4, 7, 6, 9, 8], Drain(ranges, 5));
    }

    [Fact]
    public void A_slot_past_the_dealt_ones_only_takes_from_the_backs()
    {
        var ranges = new TaskRanges();
        ranges.Deal(0, 6, 2);   // slot 0: [0, 3), slot 1: [3, 6)
        Assert.Equal(0, ranges.Take(0));
        Assert.Equal([2, 1, 5, 4, 3], Drain(ranges, 4));
    }

    [Fact]
    public void Under_contention_every_task_is_taken_exactly_once()
    {
        const int threads = 4, rounds = 300;
        var ranges = new TaskRanges();
        var rng = new Random(7);
        for (int round = 0; round < rounds; round++)
        {
            int count = 1 + rng.Next(200);
            ranges.Deal(0, count, threads);
            var hits = new int[count];
            using var start = new Barrier(threads);
            var workers = Enumerable.Range(0, threads).Select(slot => new Thread(() =>
            {
                start.SignalAndWait();
                for (int t; (t = ranges.Take(slot)) >= 0;) Interlocked.Increment(ref hits[t]);
            })).ToArray();
            foreach (var w in workers) w.Start();
            foreach (var w in workers) w.Join();
            Assert.All(hits, h => Assert.Equal(1, h));
        }
    }

    [Fact]
    public void After_stop_no_task_is_handed_out_until_the_next_deal()
    {
        var ranges = new TaskRanges();
        ranges.Deal(0, 8, 2);
        Assert.Equal(0, ranges.Take(0));
        ranges.Stop();
        Assert.Equal(-1, ranges.Take(0));
        Assert.Equal(-1, ranges.Take(1));
        ranges.Deal(0, 2, 2);
        Assert.Equal(1, ranges.Take(1));
    }
}
