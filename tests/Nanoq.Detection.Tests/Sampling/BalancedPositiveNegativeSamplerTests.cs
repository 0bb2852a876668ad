using FsCheck.Xunit;

namespace Nanoq.Detection.Tests.Sampling;

public class BalancedPositiveNegativeSamplerTests
{
    /// <summary>
    /// torchvision's counts: num_pos = min(|pos|, ⌊B·f⌋), num_neg = min(|neg|, B − num_pos); sampled positives have
    /// label ≥ 1, negatives 0, no ignored (−1) one is ever drawn; indices distinct and ascending.
    /// </summary>
    [Property(MaxTest = 200)]
    public bool Counts_and_labels_follow_torchvision(int seed)
    {
        var rng = new Rng((ulong)seed);
        int n = rng.NextInt(0, 400), batch = rng.NextInt(0, 300);
        double fraction = new[] { 0.25, 0.5, 0.3, 1.0, 0.0 }[rng.NextInt(5)];
        var labels = new int[n];
        for (int i = 0; i < n; i++) labels[i] = rng.NextInt(-1, 4);
        var (pos, neg) = new BalancedPositiveNegativeSampler(batch, fraction).Sample(labels, rng);
        int p = labels.Count(l => l >= 1), q = labels.Count(l => l == 0);
        int numPos = Math.Min(p, (int)(batch * fraction));
        int numNeg = Math.Min(q, batch - numPos);
        return pos.Length == numPos && neg.Length == numNeg
            && pos.All(i => labels[i] >= 1) && neg.All(i => labels[i] == 0)
            && pos.Zip(pos.Skip(1)).All(t => t.First < t.Second) && neg.Zip(neg.Skip(1)).All(t => t.First < t.Second);
    }

    [Fact]
    public void Same_seed_same_sample_and_every_candidate_can_be_drawn()
    {
        var labels = Enumerable.Range(0, 100).Select(i => i % 10 == 0 ? 1 : 0).ToArray();
        var s = new BalancedPositiveNegativeSampler(8, 0.25);
        var a = s.Sample(labels, new Rng(5));
        var b = s.Sample(labels, new Rng(5));
        Assert.Equal(a.Positive, b.Positive);
        Assert.Equal(a.Negative, b.Negative);
        Assert.Equal(2, a.Positive.Length);
        Assert.Equal(6, a.Negative.Length);
        var seen = new HashSet<int>();
        var rng = new Rng(1);
        for (int t = 0; t < 400; t++) seen.UnionWith(s.Sample(labels, rng).Positive);
        Assert.Equal(10, seen.Count);
    }
}
