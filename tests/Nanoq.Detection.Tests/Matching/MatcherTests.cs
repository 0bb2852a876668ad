namespace Nanoq.Detection.Tests;

/// <summary>Matcher against torchvision's det_utils.Matcher (matcher.json) and by hand.</summary>
public class MatcherTests
{
    private static readonly System.Text.Json.JsonElement Fixture = TorchvisionFixture.Json("matcher.json");

    [Fact]
    public void MatchesEqualTorchvision()
    {
        foreach (var c in Fixture.Cases("cases"))
        {
            int m = c.Int("num_gt"), n = c.Int("num_anchors");
            float[] q = c.Floats("quality");
            float high = (float)c.Double("high"), low = (float)c.Double("low");
            Assert.Equal(c.Ints("matches_low_quality"), new Matcher(high, low, allowLowQualityMatches: true).Match(q, m, n));
            Assert.Equal(c.Ints("matches"), new Matcher(high, low).Match(q, m, n));
        }
    }

    [Fact]
    public void BoxIouThenMatcherEqualsTorchvisionEndToEnd()
    {
        foreach (var c in Fixture.Cases("cases"))
        {
            float[] gt = c.Floats("gt"), anchors = c.Floats("anchors");
            using var q = Boxes.Iou(Tensor.FromArray(gt, gt.Length / 4, 4), Tensor.FromArray(anchors, anchors.Length / 4, 4));
            TorchvisionFixture.Exact(c.Floats("quality"), q.Span, c.Name());
            Assert.Equal(c.Ints("matches_low_quality"), Matcher.RetinaNet().Match(q));
        }
        // The first case's anchors came from torchvision's AnchorGenerator over a 64×64 image.
        var gen = new AnchorGenerator([[16f, 20f, 25f], [32f, 40f, 50f]], [[0.5f, 1f, 2f], [0.5f, 1f, 2f]]);
        using var ours = gen.Generate(64, 64, new (int, int)[] { (8, 8), (4, 4) });
        TorchvisionFixture.Exact(Fixture.Cases("cases").First().Floats("anchors"), ours.Span, "matcher anchors");
    }

    [Fact]
    public void ThresholdsByHand()
    {
        // 1 gt × 5 anchors. IoU 0.5 → fg (≥ high); 0.4 → ignored (≥ low, < high); 0.39 → bg; 0.7 → fg.
        float[] q = [0.5f, 0.4f, 0.39f, 0.7f, 0f];
        Assert.Equal([0, -2, -1, 0, -1], new Matcher(0.5f, 0.4f).Match(q, 1, 5));
    }

    [Fact]
    public void ArgmaxTakesTheFirstGroundTruthOnTies()
    {
        // 3 gt × 2 anchors (rows are gt): column 0 = (0.3, 0.6, 0.6) → gt 1; column 1 = (0.9, 0.9, 0.1) → gt 0.
        float[] q = [0.3f, 0.9f, 0.6f, 0.9f, 0.6f, 0.1f];
        Assert.Equal([1, 0], new Matcher(0.5f, 0.4f).Match(q, 3, 2));
    }

    [Fact]
    public void LowQualityMatchesIncludeTiesAndRestoreTheAnchorsOwnArgmax()
    {
        // 2 gt × 4 anchors.
        //   gt 0: 0.3 0.3 0.1 0.0    best 0.3 at anchors 0 and 1 (a tie: both restored)
        //   gt 1: 0.2 0.35 0.0 0.2   best 0.35 at anchor 1
        // Column argmax: anchor 0 → gt 0 (0.3), anchor 1 → gt 1 (0.35), anchor 2 → gt 0, anchor 3 → gt 1.
        // Without low quality all are below 0.4 → −1. With it, anchors 0 and 1 get their own argmax: anchor 1
        // becomes gt 1 even though it was restored for gt 0 too (torchvision's all_matches[n], not m).
        float[] q = [0.3f, 0.3f, 0.1f, 0f, 0.2f, 0.35f, 0f, 0.2f];
        Assert.Equal([-1, -1, -1, -1], new Matcher(0.5f, 0.4f).Match(q, 2, 4));
        Assert.Equal([0, 1, -1, -1], new Matcher(0.5f, 0.4f, true).Match(q, 2, 4));
    }

    [Fact]
    public void NaNQualityFollowsTorchMax()
    {
        // Column 0: (NaN, 0.9): torch's max takes the first NaN → value NaN, index 0; NaN is neither below nor
        // between, so the index stays. Column 1: (0.1, NaN) → NaN at index 1.
        float[] q = [float.NaN, 0.1f, 0.9f, float.NaN];
        Assert.Equal([0, 1], new Matcher(0.5f, 0.4f).Match(q, 2, 2));
        // With low quality: each row's max is NaN, which equals nothing, so nothing changes.
        Assert.Equal([0, 1], new Matcher(0.5f, 0.4f, true).Match(q, 2, 2));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(33)]
    public void VectorPathsEqualANaiveMatcherForEveryTailLength(int n)
    {
        var rng = new Rng((ulong)n);
        foreach (int m in new[] { 1, 2, 5 })
        {
            var q = new float[m * n];
            // Coarse values tie often; a few NaNs.
            for (int i = 0; i < q.Length; i++) q[i] = rng.Bernoulli(0.02) ? float.NaN : rng.NextInt(8) / 10f;
            foreach (bool low in new[] { false, true })
                Assert.Equal(NaiveMatcher.Match(q, m, n, 0.5f, 0.4f, low), new Matcher(0.5f, 0.4f, low).Match(q, m, n));
        }
    }

    [Fact]
    public void EmptyInputsThrowAsInTorchvision()
    {
        var matcher = Matcher.RetinaNet();
        Assert.Throws<ArgumentException>(() => matcher.Match([], 0, 5));
        Assert.Throws<ArgumentException>(() => matcher.Match([], 3, 0));
        Assert.Throws<ArgumentException>(() => new Matcher(0.4f, 0.5f));
        Assert.Throws<ArgumentException>(() => matcher.Match(new float[5], 2, 3));
    }
}
