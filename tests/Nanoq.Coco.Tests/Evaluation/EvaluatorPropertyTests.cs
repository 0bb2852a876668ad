using FsCheck.Xunit;
using Nanoq.Coco.Evaluation;

namespace Nanoq.Coco.Tests.Evaluation;

/// <summary>Properties of COCO evaluation over random ground truths and detections (FsCheck draws the seeds).</summary>
public class EvaluatorPropertyTests
{
    [Property(MaxTest = 150)]
    public void PerfectDetectionsGiveApOne(ulong seed)
    {
        var rng = new Rng(seed);
        var gt = RandomCoco.GroundTruth(rng);
        var dts = gt.Annotations.Where(a => !a.IsCrowd)
            .Select(a => new CocoResult(a.ImageId, a.CategoryId, a.Bbox, rng.Uniform(0.01, 1))).ToList();

        var s = CocoEvaluator.Evaluate(gt, dts).Stats;

        // Precision is tp / (tp + fp + np.spacing(1)), so "1" is 1 − 2.2e-16, as in pycocotools.
        bool anyGt = gt.Annotations.Any(a => !a.IsCrowd);
        foreach (double v in new[] { s.AP, s.AP50, s.AP75, s.APs, s.APm, s.APl, s.AR100, s.ARs, s.ARm, s.ARl })
            Assert.True(Math.Abs(v - 1) < 1e-12 || v == -1, $"expected 1 (or -1 for an empty range), got {v:R}");
        Assert.Equal(anyGt ? 1 : -1, s.AP, 1e-12);
    }

    [Property(MaxTest = 150)]
    public void ALowestScoredDetectionDoesNotChangeAp50OnceEveryGroundTruthIsFound(ulong seed)
    {
        var rng = new Rng(seed);
        var gt = RandomCoco.GroundTruth(rng);
        var dts = RandomCoco.Detections(rng, gt);
        var before = CocoEvaluator.Evaluate(gt, dts);
        // Precondition: at IoU .5 every non-ignored ground truth of every category is matched
        // (the exact copies in RandomCoco.Detections guarantee it).
        for (int k = 0; k < before.CategoryIds.Count; k++)
        {
            double r = before.Recall(0, k, 0, 2);
            Assert.True(r == -1 || r == 1, $"precondition: recall@.5 of category {before.CategoryIds[k]} is {r}");
        }

        double lowest = dts.Count == 0 ? 1 : dts.Min(d => d.Score);
        var im = gt.Images[rng.NextInt(gt.Images.Count)];
        var cat = gt.Categories[rng.NextInt(gt.Categories.Count)];
        var box = rng.Bernoulli(0.5) || gt.Annotations.Count == 0
            ? RandomCoco.RandomBox(rng)
            : RandomCoco.Jitter(rng, gt.Annotations[rng.NextInt(gt.Annotations.Count)].Bbox, 0.1);
        var more = dts.Append(new CocoResult(im.Id, cat.Id, box, lowest * 0.5)).ToList();

        Assert.Equal(before.Stats.AP50, CocoEvaluator.Evaluate(gt, more).Stats.AP50);
    }

    [Property(MaxTest = 150)]
    public void ResultsDoNotDependOnTheOrderOfDetectionsWithDistinctScores(ulong seed)
    {
        var rng = new Rng(seed);
        var gt = RandomCoco.GroundTruth(rng);
        var dts = RandomCoco.Detections(rng, gt);
        var shuffled = dts.ToList();
        rng.Shuffle(shuffled);

        Assert.Equal(CocoEvaluator.Evaluate(gt, dts).Stats, CocoEvaluator.Evaluate(gt, shuffled).Stats);
    }

    [Property(MaxTest = 150)]
    public void WithTiesOnlyTheOrderAmongEqualScoresMatters(ulong seed)
    {
        // Scores rounded to one decimal tie often. Permute the list, then put each score's detections back in their
        // original relative order: the reference's stable sort sees the same sequence, so the numbers are identical.
        var rng = new Rng(seed);
        var gt = RandomCoco.GroundTruth(rng);
        var dts = RandomCoco.Detections(rng, gt, tieDecimals: 1);
        var permuted = dts.ToList();
        rng.Shuffle(permuted);
        var queues = dts.GroupBy(d => d.Score).ToDictionary(g => g.Key, g => new Queue<CocoResult>(g));
        var sameTieOrder = permuted.Select(d => queues[d.Score].Dequeue()).ToList();

        Assert.Equal(CocoEvaluator.Evaluate(gt, dts).Stats, CocoEvaluator.Evaluate(gt, sameTieOrder).Stats);
    }

    [Property(MaxTest = 100)]
    public void StatsAreProbabilitiesOrMinusOne(ulong seed)
    {
        var rng = new Rng(seed);
        var gt = RandomCoco.GroundTruth(rng);
        var eval = CocoEvaluator.Evaluate(gt, RandomCoco.Detections(rng, gt, tieDecimals: 2));
        foreach (double v in eval.Stats.ToArray().Concat(eval.PerCategory.SelectMany(c => c.Stats.ToArray())))
            Assert.True(v == -1 || (v >= 0 && v <= 1), $"stat {v} outside [0, 1] and not -1");
    }
}
