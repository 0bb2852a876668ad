using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Nanoq.Quant;
using Nanoq.Quant.Observers;

namespace Nanoq.Tests.Observers;

/// <summary>The observers' update rules by hand, their edge cases, and percentile monotonicity in γ.</summary>
public class ObserverTests
{
    [Fact]
    public void MinMax_keeps_the_running_extremes()
    {
        var ob = new MinMaxObserver();
        ob.Observe(Tensor.FromArray([-1f, 2f, 0.5f]));
        ob.Observe(Tensor.FromArray([-3f, 1f]));
        ob.Observe(Tensor.FromArray([0f, 2.5f]));
        Assert.Equal((-3f, 2.5f), ob.Range);
        Assert.Equal(3, ob.Batches);
        Assert.Equal(QParams.FromRange(-3f, 2.5f, 4), ob.QParams(4));
    }

    [Fact]
    public void Ema_starts_from_the_first_batch_then_moves_by_the_momentum()
    {
        // First batch: min = −1, max = 2. Second (−3, 1): min = −1 + 0.1·(−3 − (−1)) = −1.2; max = 2 + 0.1·(1 − 2) = 1.9.
        var ob = new EmaMinMaxObserver(0.1f);
        ob.Observe(Tensor.FromArray([-1f, 2f]));
        Assert.Equal((-1f, 2f), ob.Range);
        ob.Observe(Tensor.FromArray([-3f, 1f]));
        Assert.Equal(-1f + 0.1f * (-3f - -1f), ob.Range.Min);
        Assert.Equal(2f + 0.1f * (1f - 2f), ob.Range.Max);
        Assert.Equal(-1.2f, ob.Range.Min, 6);
        Assert.Throws<ArgumentOutOfRangeException>(() => new EmaMinMaxObserver(0f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new EmaMinMaxObserver(1.5f));
    }

    [Fact]
    public void Percentile_averages_each_batchs_percentiles()
    {
        // Batch 1: 0..999 → (0.999, 998.001). Batch 2: 0..999 shifted by +1000 → (1000.999, 1998.001).
        // Mean: (500.999, 1498.001).
        var ob = new PercentileObserver(0.999);
        ob.Observe(Tensor.FromArray(Enumerable.Range(0, 1000).Select(i => (float)i).ToArray()));
        ob.Observe(Tensor.FromArray(Enumerable.Range(0, 1000).Select(i => 1000f + i).ToArray()));
        Assert.Equal((float)((0.999 + 1000.999) / 2), ob.Range.Min);
        Assert.Equal((float)((998.001 + 1998.001) / 2), ob.Range.Max);
    }

    [Fact]
    public void Percentile_ignores_rare_outliers_that_min_max_follows()
    {
        var rng = new Rng(5);
        var v = Enumerable.Range(0, 20_000).Select(_ => rng.Normal()).ToArray();
        v[123] = 1e4f;
        var p = new PercentileObserver(0.999);
        var m = new MinMaxObserver();
        p.Observe(Tensor.FromArray(v));
        m.Observe(Tensor.FromArray(v));
        Assert.Equal(1e4f, m.Range.Max);
        Assert.InRange(p.Range.Max, 2.5f, 4f);   // ≈ the 99.9th percentile of N(0, 1), 3.09
        Assert.InRange(p.Range.Min, -4f, -2.5f);
    }

    [Fact]
    public void Percentile_is_deterministic_and_leaves_its_input_alone()
    {
        var rng = new Rng(6);
        var v = Enumerable.Range(0, 5000).Select(_ => MathF.Max(0f, rng.Normal())).ToArray();
        var copy = (float[])v.Clone();
        var a = new PercentileObserver(0.99);
        var b = new PercentileObserver(0.99);
        a.Observe(Tensor.FromArray(v));
        b.Observe(Tensor.FromArray(v));
        Assert.Equal(a.Range, b.Range);
        Assert.Equal(copy, v);
        Assert.Equal(0f, a.Range.Min); // ReLU output: the low percentile is 0
    }

    [Fact]
    public void Empty_batches_are_ignored_nan_and_missing_data_throw()
    {
        foreach (RangeObserver ob in new RangeObserver[] { new MinMaxObserver(), new EmaMinMaxObserver(), new PercentileObserver() })
        {
            ob.Observe(Tensor.Zeros(0));
            Assert.Equal(0, ob.Batches);
            Assert.Throws<InvalidOperationException>(() => ob.Range);
            var e = Assert.Throws<ArgumentException>(() => ob.Observe(Tensor.FromArray([1f, float.NaN, 2f])));
            Assert.Contains("NaN", e.Message);
            ob.Observe(Tensor.FromArray([1f, -2f]));
            ob.Reset();
            Assert.Equal(0, ob.Batches);
            Assert.Throws<InvalidOperationException>(() => ob.Range);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => new PercentileObserver(0.4));
    }

    [Fact]
    public void Per_channel_observer_tracks_each_channel()
    {
        var ob = new PerChannelMinMaxObserver(axis: 1);
        ob.Observe(Tensor.FromArray([1f, -1f, 2f, 0f], 2, 2));     // channel 0: {1, 2}, channel 1: {−1, 0}
        ob.Observe(Tensor.FromArray([-4f, 3f], 1, 2));
        var (lo, hi) = ob.Range;
        Assert.Equal([-4f, -1f], lo);
        Assert.Equal([2f, 3f], hi);
        Assert.Throws<ArgumentException>(() => ob.Observe(Tensor.Zeros(2, 3)));
        Assert.Equal(ChannelQParams.FromRanges(lo, hi, 4, 1).Scales.ToArray(), ob.QParams(4).Scales.ToArray());
    }

    [Property(MaxTest = 50)]
    public Property Percentile_ranges_are_monotone_in_gamma() =>
        Prop.ForAll(Gen.Choose(500, 999).Two().ToArbitrary(), Gen.Choose(0, int.MaxValue).ToArbitrary(), (gs, seed) =>
        {
            double g1 = Math.Min(gs.Item1, gs.Item2) / 1000.0, g2 = Math.Max(gs.Item1, gs.Item2) / 1000.0;
            var rng = new Rng((ulong)seed);
            var a = new PercentileObserver(g1);
            var b = new PercentileObserver(g2);
            for (int batch = 0; batch < 3; batch++)
            {
                using var x = rng.Normal(new Shape(rng.NextInt(1, 700)), rng.Normal(), 1f + rng.NextFloat() * 3f);
                a.Observe(x);
                b.Observe(x);
            }
            return b.Range.Min <= a.Range.Min && b.Range.Max >= a.Range.Max && a.Range.Min <= a.Range.Max;
        });
}
