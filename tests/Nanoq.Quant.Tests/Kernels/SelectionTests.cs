using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Nanoq.Quant.Kernels;

namespace Nanoq.Tests.Kernels;

/// <summary>Quickselect and quantiles against a full sort.</summary>
public class SelectionTests
{
    private static double SortedQuantile(float[] v, double p)
    {
        var s = (float[])v.Clone();
        Array.Sort(s);
        double h = (s.Length - 1) * p;
        int k = (int)Math.Floor(h);
        return k + 1 < s.Length ? s[k] + (h - k) * ((double)s[k + 1] - s[k]) : s[k];
    }

    public static TheoryData<string> Shapes() => new() { "random", "sorted", "reversed", "all-equal", "relu", "organ-pipe", "two-values" };

    private static float[] Make(string shape, int n, Rng rng) => shape switch
    {
        "random" => Enumerable.Range(0, n).Select(_ => rng.Normal()).ToArray(),
        "sorted" => Enumerable.Range(0, n).Select(i => (float)i).ToArray(),
        "reversed" => Enumerable.Range(0, n).Select(i => (float)(n - i)).ToArray(),
        "all-equal" => Enumerable.Repeat(3f, n).ToArray(),
        "relu" => Enumerable.Range(0, n).Select(_ => MathF.Max(0f, rng.Normal())).ToArray(), // half zeros
        "organ-pipe" => Enumerable.Range(0, n).Select(i => (float)Math.Min(i, n - i)).ToArray(),
        _ => Enumerable.Range(0, n).Select(i => (float)(i % 2)).ToArray(),
    };

    [Theory, MemberData(nameof(Shapes))]
    public void Select_finds_the_kth_smallest_and_partitions(string shape)
    {
        var rng = new Rng(3);
        foreach (int n in new[] { 1, 2, 15, 16, 17, 100, 1001, 20_000 })
        {
            var v = Make(shape, n, rng);
            var sorted = (float[])v.Clone();
            Array.Sort(sorted);
            foreach (int k in new[] { 0, n / 3, n / 2, n - 1, Math.Min(n - 1, (int)(0.999 * (n - 1))) })
            {
                var d = (float[])v.Clone();
                float got = Selection.Select(d, k);
                Assert.Equal(sorted[k], got);
                Assert.Equal(got, d[k]);
                for (int i = 0; i < k; i++) Assert.True(d[i] <= got);
                for (int i = k + 1; i < n; i++) Assert.True(d[i] >= got);
                Array.Sort(d);
                Assert.Equal(sorted, d); // a permutation: nothing lost or duplicated
            }
        }
    }

    [Property(MaxTest = 100)]
    public Property Quantiles_match_a_full_sort() =>
        Prop.ForAll(Gen.Choose(1, 3000).ToArbitrary(), Gen.Choose(0, 1000).ToArbitrary(), Gen.Choose(0, int.MaxValue).ToArbitrary(), (n, pm, seed) =>
        {
            var rng = new Rng((ulong)seed);
            var v = Enumerable.Range(0, n).Select(_ => MathF.Round(rng.Normal() * 4f) / 4f).ToArray(); // many repeats
            double p = pm / 1000.0;
            double lo = Math.Min(p, 1 - p), hi = Math.Max(p, 1 - p);
            var d = (float[])v.Clone();
            var (a, b) = Selection.QuantilePair(d, lo, hi);
            return a == SortedQuantile(v, lo) && b == SortedQuantile(v, hi) && Selection.Quantile((float[])v.Clone(), p) == SortedQuantile(v, p);
        });

    [Fact]
    public void Quantile_of_0_to_999_interpolates_linearly()
    {
        // h = 999 · 0.999 = 998.001 → 998 + 0.001 · (999 − 998) = 998.001; h = 999 · 0.001 = 0.999 → 0.999.
        var v = Enumerable.Range(0, 1000).Select(i => (float)i).Reverse().ToArray();
        var (lo, hi) = Selection.QuantilePair(v, 0.001, 0.999);
        Assert.Equal(0.999, lo, 12);
        Assert.Equal(998.001, hi, 9);
    }

    [Fact]
    public void Bad_arguments_throw()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Selection.Select(new float[3], 3));
        Assert.Throws<ArgumentException>(() => Selection.Quantile(Span<float>.Empty, 0.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => Selection.Quantile(new float[3], 1.5));
    }
}
