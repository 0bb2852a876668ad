namespace Nanoq.Tests;

/// <summary>Runs alone: <see cref="TensorPool.Misses"/> is process-wide and other tests allocate concurrently.</summary>
[CollectionDefinition(nameof(TensorPoolTests), DisableParallelization = true)]
public class TensorPoolCollection;

[Collection(nameof(TensorPoolTests))]
public class TensorPoolTests
{
    [Fact]
    public void A_returned_buffer_is_handed_out_again()
    {
        var a = TensorPool.Rent(4099);
        TensorPool.Return(a);
        var b = TensorPool.Rent(4099);
        Assert.Same(a, b);
        TensorPool.Return(b);
        var ints = TensorPool.RentInt(4099);
        TensorPool.Return(ints);
        Assert.Same(ints, TensorPool.RentInt(4099));
    }

    [Fact]
    public void Small_buffers_bypass_the_pool()
    {
        var a = TensorPool.Rent(10);
        TensorPool.Return(a);
        Assert.NotSame(a, TensorPool.Rent(10));
        Assert.Empty(TensorPool.Rent(0));
        Assert.Empty(TensorPool.RentInt(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => TensorPool.Rent(-1));
    }

    [Fact]
    public void A_repeated_step_allocates_nothing_after_warm_up()
    {
        // A toy "training step": a few intermediate tensors of fixed shapes, disposed at the end of the step.
        var x = Tensor.Ones(8, 16, 12, 12);
        void Step()
        {
            using var y = Nanoq.Ops.Relu(x);
            using var p = Nanoq.Ops.MaxPool2d(y, 3, 2, 1, out var argmax);
            using var u = Nanoq.Ops.UpsampleNearest2d(p, 2);
            using var s = Nanoq.Ops.Sum(u, [0, 2, 3]);
            using var dx = Nanoq.Ops.MaxPool2dBackward(p, argmax, y.Shape, 3, 2, 1);
            TensorPool.Return(argmax);
        }
        Step();
        Step();
        long before = TensorPool.Misses;
        for (int i = 0; i < 5; i++) Step();
        Assert.Equal(before, TensorPool.Misses);
    }

    [Fact]
    public void The_pool_respects_its_budget()
    {
        long saved = TensorPool.MaxPooledFloats;
        try
        {
            TensorPool.Clear();
            TensorPool.MaxPooledFloats = 3000;
            TensorPool.Return(new float[2000]);
            TensorPool.Return(new float[2000]); // over budget: dropped
            Assert.Equal(2000, TensorPool.PooledFloats);
            TensorPool.Rent(2000);
            Assert.Equal(0, TensorPool.PooledFloats);
        }
        finally
        {
            TensorPool.MaxPooledFloats = saved;
            TensorPool.Clear();
        }
    }

    [Fact]
    public void A_full_pool_releases_the_lengths_used_longest_ago_first()
    {
        long saved = TensorPool.MaxPooledFloats;
        try
        {
            TensorPool.Clear();
            TensorPool.MaxPooledFloats = 8000;
            var stale = TensorPool.Rent(3000);     // a length of an earlier step (a proposal count that recurs no more)
            var steady = TensorPool.Rent(2500);    // asked for every step
            TensorPool.Return(stale);
            TensorPool.Return(steady);
            TensorPool.Return(TensorPool.Rent(2500) is var again && ReferenceEquals(again, steady) ? again : throw new Exception("no hit"));
            var fresh = new float[4000];           // 5500 idle + 4000 > 8000: release down to 6000, oldest length first
            TensorPool.Return(fresh);
            Assert.Equal(2500 + 4000, TensorPool.PooledFloats);
            Assert.Same(steady, TensorPool.Rent(2500));
            Assert.Same(fresh, TensorPool.Rent(4000));
            long misses = TensorPool.Misses;
            TensorPool.Rent(3000);                 // the stale length was released
            Assert.Equal(misses + 1, TensorPool.Misses);
        }
        finally
        {
            TensorPool.MaxPooledFloats = saved;
            TensorPool.Clear();
        }
    }
}
