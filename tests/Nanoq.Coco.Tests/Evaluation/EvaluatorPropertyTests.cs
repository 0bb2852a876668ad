using Nanoq.Testing;
using Xunit.Abstractions;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Nanoq.Coco.Evaluation;

namespace Nanoq.Coco.Tests.Evaluation;

/// <summary>
/// Properties of COCO evaluation over random ground truths and detections (FsCheck draws the seeds; a failing
/// [Property] prints the replay pair "(seed, gamma)" for <c>[Property(Replay = "...")]</c>, and
/// <see cref="PropertyRun"/> prints its own for the [Fact]s that count their cases).
/// </summary>
public class EvaluatorPropertyTests(ITestOutputHelper output)
{
    private readonly ITestOutputHelper _out = output;

    /// <summary>
    /// For each of the 12 stats, whether the reference reports a number (true) or −1 (false, "no ground truth in that
    /// range"): a range has a number when some non-crowd ground truth's <c>area</c> field lies in it, both ends closed as
    /// in pycocotools' evaluateImg; AR1 and AR10 use the "all" range.
    /// </summary>
    private static bool[] StatDefined(CocoDataset gt)
    {
        var areas = gt.Annotations.Where(a => !a.IsCrowd).Select(a => a.Area).ToList();
        bool all = areas.Count > 0, small = areas.Any(a => a <= 32 * 32), medium = areas.Any(a => a >= 32 * 32 && a <= 96 * 96),
             large = areas.Any(a => a >= 96 * 96);
        return [all, all, all, small, medium, large, all, all, all, small, medium, large];
    }

    /// <summary>
    /// Exact copies of every non-crowd ground truth: every stat with ground truth in its range is 1 (AR1 aside: one
    /// detection an image cannot recall two objects), and −1 exactly where its range has none. Most generated cases
    /// have objects in all three size ranges, so a 1 is expected for most (case, stat) pairs; the counter checks it.
    /// </summary>
    [Fact]
    public void PerfectDetectionsGiveApOne()
    {
        int pairs = 0, defined = 0;
        PropertyRun.Check(Prop.ForAll(ArbMap.Default.ArbFor<ulong>(), seed =>
        {
            var rng = new Rng(seed);
            var gt = RandomCoco.GroundTruth(rng);
            var dts = gt.Annotations.Where(a => !a.IsCrowd)
                .Select(a => new CocoResult(a.ImageId, a.CategoryId, a.Bbox, rng.Uniform(0.01, 1))).ToList();

            var s = CocoEvaluator.Evaluate(gt, dts).Stats.ToArray();
            var expected = StatDefined(gt);
            for (int i = 0; i < s.Length; i++)
            {
                if (i == 6) continue; // AR1
                pairs++;
                // Precision is tp / (tp + fp + np.spacing(1)), so "1" is 1 − 2.2e-16, as in pycocotools.
                if (expected[i]) defined++;
                if (expected[i] ? Math.Abs(s[i] - 1) >= 1e-12 : s[i] != -1)
                    throw new Xunit.Sdk.XunitException($"seed {seed}: stat {i} is {s[i]:R}, expected {(expected[i] ? "1" : "-1")}");
            }
        }), maxTest: 150);
        _out.WriteLine($"{defined} of {pairs} (case, stat) pairs had ground truth in range");
        Assert.True(defined * 2 >= pairs, $"only {defined} of {pairs} (case, stat) pairs had ground truth in range");
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
        // −1 exactly where the range has no ground truth: every ground truth has an exact copy among the detections,
        // so a defined stat is a real number (recall at IoU .5 is 1), never −1.
        var s = eval.Stats.ToArray();
        var expected = StatDefined(gt);
        for (int i = 0; i < s.Length; i++)
            Assert.True(expected[i] == (s[i] != -1), $"stat {i} is {s[i]:R} but the range {(expected[i] ? "has" : "has no")} ground truth");
    }
}
