using FsCheck.Xunit;

namespace Nanoq.Detection.Tests;

/// <summary>FsCheck properties of the Matcher over IoU matrices of random boxes (FsCheck draws the seeds).</summary>
public class MatcherPropertyTests
{
    private static (float[] Q, int M, int N) Draw(Rng rng)
    {
        int m = 1 + rng.NextInt(8), n = 1 + rng.NextInt(120);
        float[] gt = BoxesTests.RandomBoxes(rng, m, 100, 60), anchors = BoxesTests.RandomBoxes(rng, n, 100, 60);
        if (rng.Bernoulli(0.3) && n > 2) Array.Copy(anchors, 0, anchors, 4, 4);        // a duplicate anchor: ties
        if (rng.Bernoulli(0.3) && m > 1) Array.Copy(gt, 0, gt, 4, 4);                  // a duplicate gt
        var q = new float[m * n];
        Nanoq.Detection.Boxes.Iou(gt, anchors, q);
        return (q, m, n);
    }

    [Property(MaxTest = 200)]
    public void MatchesFollowTheThresholds(ulong seed)
    {
        var (q, m, n) = Draw(new Rng(seed));
        var matches = new Matcher(0.5f, 0.4f).Match(q, m, n);
        for (int j = 0; j < n; j++)
        {
            float best = Enumerable.Range(0, m).Max(i => q[i * n + j]);
            int first = Enumerable.Range(0, m).First(i => q[i * n + j] == best);
            int expected = best >= 0.5f ? first : best >= 0.4f ? Matcher.BetweenThresholds : Matcher.BelowLowThreshold;
            Assert.Equal(expected, matches[j]);
        }
    }

    [Property(MaxTest = 200)]
    public void LowQualityMatchesOnlyAddMatchesAndCoverEveryOverlappingGroundTruth(ulong seed)
    {
        var (q, m, n) = Draw(new Rng(seed));
        var plain = new Matcher(0.5f, 0.4f).Match(q, m, n);
        var low = new Matcher(0.5f, 0.4f, allowLowQualityMatches: true).Match(q, m, n);
        for (int j = 0; j < n; j++)
        {
            if (plain[j] >= 0) Assert.Equal(plain[j], low[j]);           // foreground is never changed
            else if (low[j] >= 0)                                        // a new match is the anchor's own argmax
            {
                float best = Enumerable.Range(0, m).Max(i => q[i * n + j]);
                Assert.Equal(Enumerable.Range(0, m).First(i => q[i * n + j] == best), low[j]);
            }
        }
        // Every ground truth with a positive best IoU has its best anchors matched (to some ground truth).
        for (int i = 0; i < m; i++)
        {
            float best = Enumerable.Range(0, n).Max(j => q[i * n + j]);
            if (best > 0)
                for (int j = 0; j < n; j++)
                    if (q[i * n + j] == best) Assert.True(low[j] >= 0);
        }
        Assert.Equal(NaiveMatcher.Match(q, m, n, 0.5f, 0.4f, true), low);
    }
}
