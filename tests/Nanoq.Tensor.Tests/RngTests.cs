namespace Nanoq.Tests;

public class RngTests
{
    [Fact]
    public void The_same_seed_gives_the_same_stream()
    {
        var a = new Rng(42);
        var b = new Rng(42);
        for (int i = 0; i < 100; i++) Assert.Equal(a.NextUInt64(), b.NextUInt64());
        Assert.NotEqual(new Rng(1).NextUInt64(), new Rng(2).NextUInt64());
        Assert.Equal(new Rng(7).Normal(new Shape(5)).ToArray(), new Rng(7).Normal(new Shape(5)).ToArray());
        // Forks are reproducible and differ from the parent's continuation.
        var p1 = new Rng(9);
        var p2 = new Rng(9);
        Assert.Equal(p1.Fork().NextUInt64(), p2.Fork().NextUInt64());
        Assert.NotEqual(p1.Fork().NextUInt64(), p1.NextUInt64());
    }

    [Fact]
    public void Uniform_floats_cover_their_range_with_the_right_mean()
    {
        var rng = new Rng(3);
        const int n = 100_000;
        double sum = 0;
        float min = float.MaxValue, max = float.MinValue;
        for (int i = 0; i < n; i++)
        {
            float v = rng.Uniform(-2f, 6f);
            Assert.InRange(v, -2f, 6f);
            Assert.True(v < 6f);
            sum += v;
            min = Math.Min(min, v);
            max = Math.Max(max, v);
        }
        Assert.Equal(2.0, sum / n, 0.03); // σ of the mean = 8/√12/√n ≈ 0.007
        Assert.True(min < -1.99f && max > 5.99f);
        for (int i = 0; i < 1000; i++) Assert.InRange(rng.NextDouble(), 0.0, 0.9999999999);
    }

    [Fact]
    public void Normal_draws_have_the_requested_mean_and_std()
    {
        var rng = new Rng(4);
        var t = rng.Normal(new Shape(200_000), 1.5f, 0.5f);
        double mean = t.ToArray().Average(v => (double)v);
        double std = Math.Sqrt(t.ToArray().Average(v => (v - mean) * (v - mean)));
        Assert.Equal(1.5, mean, 0.005);
        Assert.Equal(0.5, std, 0.005);
    }

    [Fact]
    public void Integers_are_in_range_and_unbiased()
    {
        var rng = new Rng(5);
        var counts = new int[7];
        for (int i = 0; i < 70_000; i++) counts[rng.NextInt(7)]++;
        Assert.All(counts, c => Assert.InRange(c, 9_500, 10_500));
        for (int i = 0; i < 1000; i++) Assert.InRange(rng.NextInt(-3, 4), -3, 3);
        Assert.Throws<ArgumentOutOfRangeException>(() => rng.NextInt(0));
    }

    [Fact]
    public void Permutations_are_valid_and_shuffled()
    {
        var rng = new Rng(6);
        foreach (int n in new[] { 0, 1, 2, 10, 1000 })
        {
            var p = rng.Permutation(n);
            Assert.Equal(Enumerable.Range(0, n), p.Order());
        }
        var big = rng.Permutation(1000);
        Assert.True(big.Where((v, i) => v == i).Count() < 20); // a sorted "permutation" would be all fixed points
        // Each position is uniform: element 0 lands in the first half about half the time.
        int firstHalf = 0;
        for (int i = 0; i < 2000; i++) if (Array.IndexOf(rng.Permutation(10), 0) < 5) firstHalf++;
        Assert.InRange(firstHalf, 900, 1100);
    }

    [Fact]
    public void Bernoulli_matches_its_probability()
    {
        var rng = new Rng(8);
        int hits = 0;
        for (int i = 0; i < 100_000; i++) if (rng.Bernoulli(0.3)) hits++;
        Assert.InRange(hits, 29_300, 30_700);
    }
}
