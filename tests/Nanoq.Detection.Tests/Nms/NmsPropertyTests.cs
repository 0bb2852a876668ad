using FsCheck.Xunit;

namespace Nanoq.Detection.Tests;

/// <summary>FsCheck properties of nms / batched_nms (FsCheck draws the seeds; DESIGN.md §9).</summary>
public class NmsPropertyTests
{
    private sealed record Case(float[] Boxes, float[] Scores, int[] Classes, double Threshold);

    private static Case Draw(ulong seed)
    {
        var rng = new Rng(seed);
        int n = rng.NextInt(150);
        bool coarse = rng.Bernoulli(0.5);   // integer boxes and quantized scores: exact ties and exact IoUs
        var boxes = coarse ? new float[4 * n] : BoxesTests.RandomBoxes(rng, n, rng.Uniform(20f, 200f), rng.Uniform(2f, 80f));
        var scores = new float[n];
        var classes = new int[n];
        int numClasses = 1 + rng.NextInt(4);
        for (int i = 0; i < n; i++)
        {
            if (coarse)
            {
                float x = rng.NextInt(20), y = rng.NextInt(20);
                boxes[4 * i] = x; boxes[4 * i + 1] = y;
                boxes[4 * i + 2] = x + 1 + rng.NextInt(10); boxes[4 * i + 3] = y + 1 + rng.NextInt(10);
            }
            scores[i] = coarse ? rng.NextInt(5) / 4f : rng.NextFloat();
            classes[i] = rng.NextInt(numClasses);
        }
        double thr = new[] { 0.3, 0.5, 0.7, rng.NextDouble() }[rng.NextInt(4)];
        return new Case(boxes, scores, classes, thr);
    }

    private static float Iou(float[] b, int i, int j) => Nanoq.Detection.Boxes.Iou(b.AsSpan(4 * i, 4), b.AsSpan(4 * j, 4));

    [Property(MaxTest = 200)]
    public void KeepIsASubsetSortedByScoreWithPairwiseIouAtMostTheThreshold(ulong seed)
    {
        var c = Draw(seed);
        var keep = NonMaxSuppression.Nms(c.Boxes, c.Scores, c.Threshold);
        Assert.Equal(keep.Length, keep.Distinct().Count());
        Assert.All(keep, k => Assert.InRange(k, 0, c.Scores.Length - 1));
        for (int a = 1; a < keep.Length; a++)
        {
            Assert.True(c.Scores[keep[a - 1]] >= c.Scores[keep[a]], "not sorted by score");
            if (c.Scores[keep[a - 1]] == c.Scores[keep[a]]) Assert.True(keep[a - 1] < keep[a], "tie not by index");
        }
        for (int a = 0; a < keep.Length; a++)
            for (int b = a + 1; b < keep.Length; b++)
                Assert.True((double)Iou(c.Boxes, keep[a], keep[b]) <= c.Threshold);
        // Every dropped box overlaps some kept box of higher rank by more than the threshold.
        var kept = new HashSet<int>(keep);
        for (int i = 0; i < c.Scores.Length; i++)
            if (!kept.Contains(i))
                Assert.Contains(keep, k => (double)Iou(c.Boxes, k, i) > c.Threshold);
    }

    [Property(MaxTest = 200)]
    public void NmsIsIdempotent(ulong seed)
    {
        var c = Draw(seed);
        var keep = NonMaxSuppression.Nms(c.Boxes, c.Scores, c.Threshold);
        float[] b = keep.SelectMany(k => c.Boxes.Skip(4 * k).Take(4)).ToArray();
        float[] s = keep.Select(k => c.Scores[k]).ToArray();
        var again = NonMaxSuppression.Nms(b, s, c.Threshold);
        Assert.Equal(Enumerable.Range(0, keep.Length), again);
    }

    [Property(MaxTest = 200)]
    public void BatchedNmsIsPerClassNmsMerged(ulong seed)
    {
        var c = Draw(seed);
        var keep = NonMaxSuppression.BatchedNms(c.Boxes, c.Scores, c.Classes, c.Threshold);
        // Within a class: pairwise IoU ≤ threshold; and the result equals nms on each class separately.
        var expected = new List<int>();
        foreach (int cls in c.Classes.Distinct())
        {
            int[] members = Enumerable.Range(0, c.Classes.Length).Where(i => c.Classes[i] == cls).ToArray();
            float[] b = members.SelectMany(k => c.Boxes.Skip(4 * k).Take(4)).ToArray();
            float[] s = members.Select(k => c.Scores[k]).ToArray();
            expected.AddRange(NonMaxSuppression.Nms(b, s, c.Threshold).Select(k => members[k]));
        }
        Assert.Equal(expected.OrderByDescending(k => c.Scores[k]).ThenBy(k => k), keep);
        for (int a = 0; a < keep.Length; a++)
            for (int b = a + 1; b < keep.Length; b++)
                if (c.Classes[keep[a]] == c.Classes[keep[b]])
                    Assert.True((double)Iou(c.Boxes, keep[a], keep[b]) <= c.Threshold);
        // Idempotent too.
        float[] kb = keep.SelectMany(k => c.Boxes.Skip(4 * k).Take(4)).ToArray();
        var again = NonMaxSuppression.BatchedNms(kb, keep.Select(k => c.Scores[k]).ToArray(), keep.Select(k => c.Classes[k]).ToArray(), c.Threshold);
        Assert.Equal(Enumerable.Range(0, keep.Length), again);
    }
}
