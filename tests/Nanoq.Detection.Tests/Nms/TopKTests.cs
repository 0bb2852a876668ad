namespace Nanoq.Detection.Tests;

/// <summary>TopK against torch.topk on thresholded scores (topk.json) and a sort.</summary>
public class TopKTests
{
    [Fact]
    public void SelectEqualsTorchTopkOnThresholdedScores()
    {
        foreach (var c in TorchvisionFixture.Json("topk.json").Cases("cases"))
        {
            float[] scores = c.Floats("scores");
            var idx = TopK.Select(scores, c.Int("k"), (float)c.Double("score_threshold"));
            Assert.Equal(c.Ints("indices"), idx);
            TorchvisionFixture.Exact(c.Floats("top_scores"), idx.Select(i => scores[i]).ToArray(), "top scores");
        }
    }

    [Theory]
    [InlineData(0, 5)]
    [InlineData(1, 1)]
    [InlineData(10, 0)]
    [InlineData(10, 3)]
    [InlineData(100, 99)]
    [InlineData(1000, 17)]
    [InlineData(5000, 1000)]
    public void SelectEqualsAStableSortWithTies(int n, int k)
    {
        var rng = new Rng((ulong)(n * 7 + k));
        var scores = new float[n];
        for (int i = 0; i < n; i++) scores[i] = rng.NextInt(20) / 19f;   // many ties
        var expected = Enumerable.Range(0, n).OrderByDescending(i => scores[i]).Take(k).ToArray();   // stable
        Assert.Equal(expected, TopK.Select(scores, k));
        var above = Enumerable.Range(0, n).Where(i => scores[i] > 0.5f).OrderByDescending(i => scores[i]).Take(k).ToArray();
        Assert.Equal(above, TopK.Select(scores, k, 0.5f));
    }

    [Fact]
    public void ThresholdIsStrictAndDropsNaN()
    {
        Assert.Equal([2], TopK.Select([0.05f, float.NaN, 0.06f, 0.01f], 10, 0.05f));
        // Without a threshold NaN counts as the largest, as in torch.topk.
        Assert.Equal([1, 2], TopK.Select([0.05f, float.NaN, 0.06f, 0.01f], 2));
    }
}
