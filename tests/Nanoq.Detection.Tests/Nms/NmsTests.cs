namespace Nanoq.Detection.Tests;

/// <summary>nms and batched_nms against torchvision (nms.json), a naive reference, and by hand.</summary>
public class NmsTests
{
    private static readonly System.Text.Json.JsonElement Fixture = TorchvisionFixture.Json("nms.json");

    [Fact]
    public void NmsEqualsTorchvisionExactly()
    {
        foreach (var c in Fixture.Cases("nms"))
        {
            var keep = NonMaxSuppression.Nms(c.Floats("boxes"), c.Floats("scores"), c.Double("iou_threshold"));
            Assert.True(c.Ints("keep").SequenceEqual(keep), $"{c.Name()}: keep differs from torchvision");
        }
    }

    [Fact]
    public void BatchedNmsEqualsTorchvisionsStableOrderExactly()
    {
        foreach (var c in Fixture.Cases("batched_nms"))
        {
            var keep = NonMaxSuppression.BatchedNms(c.Floats("boxes"), c.Floats("scores"), c.Ints("idxs"), c.Double("iou_threshold"));
            Assert.True(c.Ints("keep_stable").SequenceEqual(keep), $"{c.Name()}: keep differs from torchvision's coordinate-trick order");
        }
    }

    [Fact]
    public void BatchedNmsEqualsTorchvisionUpToTheOrderOfEqualScores()
    {
        // Past 1000 boxes torchvision's batched_nms ends with an unstable sort: same boxes, same score sequence,
        // but equal scores in any order. Canonicalize each run of equal scores by index before comparing.
        foreach (var c in Fixture.Cases("batched_nms"))
        {
            float[] scores = c.Floats("scores");
            var keep = NonMaxSuppression.BatchedNms(c.Floats("boxes"), scores, c.Ints("idxs"), c.Double("iou_threshold"));
            Assert.Equal(Canonical(c.Ints("keep"), scores), Canonical(keep, scores));
        }
    }

    private static int[] Canonical(int[] keep, float[] scores) =>
        keep.Select((k, pos) => (k, pos)).OrderBy(t => -scores[t.k]).ThenBy(t => t.k).Select(t => t.k).ToArray();

    [Fact]
    public void ExactThresholdIsKeptAndFloatThresholdIsComparedAsDouble()
    {
        // [0,0,2,1] vs [0,0,1,1]: IoU 1/2 exactly, not > 0.5 → both kept.
        Assert.Equal([0, 1], NonMaxSuppression.Nms([0, 0, 2, 1, 0, 0, 1, 1], [0.9f, 0.8f], 0.5));
        // [0,0,10,1] vs [0,0,3,1]: IoU float32(3/10) = 0.300000012 > 0.3 (double) → suppressed, as in torchvision.
        Assert.Equal([0], NonMaxSuppression.Nms([0, 0, 10, 1, 0, 0, 3, 1], [0.9f, 0.8f], 0.3));
        // ...but not at threshold float32(0.3) itself.
        Assert.Equal([0, 1], NonMaxSuppression.Nms([0, 0, 10, 1, 0, 0, 3, 1], [0.9f, 0.8f], (double)0.3f));
    }

    [Fact]
    public void EqualScoresGoByIndex()
    {
        // Three identical boxes, equal scores: the first index survives.
        float[] b = [0, 0, 4, 4, 0, 0, 4, 4, 0, 0, 4, 4];
        Assert.Equal([0], NonMaxSuppression.Nms(b, [0.5f, 0.5f, 0.5f], 0.5));
        Assert.Equal([1], NonMaxSuppression.Nms(b, [0.4f, 0.5f, 0.5f], 0.5));
    }

    [Fact]
    public void BatchedNmsNeverSuppressesAcrossClasses()
    {
        float[] b = [0, 0, 4, 4, 0, 0, 4, 4, 0, 0, 4, 4];
        Assert.Equal([2, 0], NonMaxSuppression.BatchedNms(b, [0.5f, 0.4f, 0.9f], [3, 3, -7], 0.5));
        Assert.Equal([2], NonMaxSuppression.BatchedNms(b, [0.5f, 0.4f, 0.9f], [3, 3, -7], 0.5, maxOutput: 1));
    }

    [Fact]
    public void MaxOutputGivesThePrefixOfTheFullResult()
    {
        var rng = new Rng(7);
        float[] boxes = BoxesTests.RandomBoxes(rng, 300);
        var scores = new float[300];
        rng.FillUniform(scores, 0, 1);
        var full = NonMaxSuppression.Nms(boxes, scores, 0.5);
        foreach (int k in new[] { 0, 1, 10, full.Length, full.Length + 5 })
            Assert.Equal(full.Take(k), NonMaxSuppression.Nms(boxes, scores, 0.5, maxOutput: k));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(65)]
    [InlineData(130)]
    [InlineData(700)]
    public void VectorizedSweepEqualsTheNaiveKernelAtWordBoundaries(int n)
    {
        var rng = new Rng((ulong)n * 31);
        foreach (double thr in new[] { 0.0, 0.3, 0.5, 0.9 })
        {
            // Integer boxes with coarse scores: exact ties and IoUs at the threshold are common.
            var boxes = new float[4 * n];
            var scores = new float[n];
            var idxs = new int[n];
            for (int i = 0; i < n; i++)
            {
                float x = rng.NextInt(30), y = rng.NextInt(30);
                boxes[4 * i] = x; boxes[4 * i + 1] = y;
                boxes[4 * i + 2] = x + 1 + rng.NextInt(12); boxes[4 * i + 3] = y + 1 + rng.NextInt(12);
                scores[i] = rng.NextInt(6) / 5f;
                idxs[i] = rng.NextInt(3);
            }
            Assert.Equal(NaiveNms.Nms(boxes, scores, thr), NonMaxSuppression.Nms(boxes, scores, thr));
            Assert.Equal(NaiveNms.BatchedNms(boxes, scores, idxs, thr), NonMaxSuppression.BatchedNms(boxes, scores, idxs, thr));
        }
    }

    [Fact]
    public void NaNScoresComeFirstAsInTorchsSort()
    {
        float[] b = [0, 0, 1, 1, 5, 5, 6, 6, 10, 10, 11, 11];
        Assert.Equal([1, 2, 0], NonMaxSuppression.Nms(b, [0.1f, float.NaN, float.PositiveInfinity], 0.5));
    }

    [Fact]
    public void TensorOverloadsAndBadArguments()
    {
        using var boxes = Tensor.FromArray([0, 0, 2, 2, 0, 0, 2, 2.1f], 2, 4);
        using var scores = Tensor.FromArray([0.2f, 0.3f], 2);
        Assert.Equal([1], NonMaxSuppression.Nms(boxes, scores, 0.5));
        Assert.Equal([1, 0], NonMaxSuppression.BatchedNms(boxes, scores, [0, 1], 0.5));
        Assert.Empty(NonMaxSuppression.Nms([], [], 0.5));
        Assert.Empty(NonMaxSuppression.BatchedNms([], [], [], 0.5));
        Assert.Throws<ArgumentException>(() => NonMaxSuppression.Nms(new float[8], new float[3], 0.5));
        Assert.Throws<ArgumentException>(() => NonMaxSuppression.BatchedNms(new float[8], new float[2], new int[1], 0.5));
        Assert.Throws<ArgumentException>(() => NonMaxSuppression.Nms(new float[4], new float[1], double.NaN));
    }
}
