using System.Text.Json;
using Nanoq.Coco.Evaluation;

namespace Nanoq.Coco.Tests.Evaluation;

/// <summary>Hand-computed cases for each rule of pycocotools' evaluation.</summary>
public class EvaluatorUnitTests
{
    private static readonly CocoCategory Cat = new(1, "thing");

    private static CocoDataset Gt(params CocoAnnotation[] anns)
    {
        var images = anns.Select(a => a.ImageId).Append(1).Distinct().Order()
            .Select(id => new CocoImage(id, 640, 480, $"{id}.jpg")).ToList();
        var cats = anns.Select(a => a.CategoryId).Append(1).Distinct().Order().Select(id => new CocoCategory(id, $"c{id}")).ToList();
        return new CocoDataset(images, anns, cats);
    }

    private static CocoAnnotation Ann(long id, CocoBox box, long image = 1, long cat = 1, bool crowd = false, double? area = null) =>
        new(id, image, cat, box, area ?? box.Area, crowd);

    private static CocoResult Det(CocoBox box, double score, long image = 1, long cat = 1) => new(image, cat, box, score);

    [Fact]
    public void OnePerfectDetection()
    {
        var b = new CocoBox(10, 10, 50, 50);
        var s = CocoEvaluator.Evaluate(Gt(Ann(1, b)), [Det(b, 0.9)]).Stats;
        Assert.Equal(1, s.AP, 1e-12);
        Assert.Equal(1, s.AR1, 1e-12);
        // 50×50 = 2500 is medium: the small and large ranges have no ground truth.
        Assert.Equal(-1, s.APs);
        Assert.Equal(1, s.APm, 1e-12);
        Assert.Equal(-1, s.APl);
    }

    [Fact]
    public void NoDetectionsGiveZeroNotMinusOne()
    {
        var s = CocoEvaluator.Evaluate(Gt(Ann(1, new CocoBox(10, 10, 50, 50))), []).Stats;
        Assert.Equal(0, s.AP);
        Assert.Equal(0, s.AR100);
    }

    [Fact]
    public void ADetectionInsideACrowdRegionIsIgnoredNotAFalsePositive()
    {
        // Crowd IoU divides by the detection's own area: a 10×10 box inside a 200×200 crowd has IoU 1 with it,
        // so it matches the crowd and is ignored. Without that rule it would be a false positive ranked first,
        // and AP would drop to 0.5 at every threshold.
        var gt = Gt(Ann(1, new CocoBox(300, 300, 60, 60)), Ann(2, new CocoBox(0, 0, 200, 200), crowd: true));
        var dts = new[] { Det(new CocoBox(50, 50, 10, 10), 0.9), Det(new CocoBox(300, 300, 60, 60), 0.8) };
        Assert.Equal(1, CocoEvaluator.Evaluate(gt, dts).Stats.AP, 1e-12);
    }

    [Fact]
    public void CrowdRegionsAbsorbAnyNumberOfDetections()
    {
        var gt = Gt(Ann(1, new CocoBox(300, 300, 60, 60)), Ann(2, new CocoBox(0, 0, 200, 200), crowd: true));
        var dts = Enumerable.Range(0, 5).Select(i => Det(new CocoBox(20 * i, 20 * i, 15, 15), 0.9 - 0.01 * i))
            .Append(Det(new CocoBox(300, 300, 60, 60), 0.5)).ToArray();
        Assert.Equal(1, CocoEvaluator.Evaluate(gt, dts).Stats.AP, 1e-12);
    }

    [Fact]
    public void AreaRangesUseTheAnnotationsAreaFieldNotTheBox()
    {
        // The box is 50×50 = 2500 (medium) but the annotation says 500 (small, as a thin mask would).
        var b = new CocoBox(10, 10, 50, 50);
        var s = CocoEvaluator.Evaluate(Gt(Ann(1, b, area: 500)), [Det(b, 0.9)]).Stats;
        Assert.Equal(1, s.APs, 1e-12);
        Assert.Equal(-1, s.APm);
    }

    // pycocotools' cocoeval.py, evaluateImg: a ground truth is ignored when `g['area'] < aRng[0] or g['area'] > aRng[1]`,
    // a detection when `d['area'] < aRng[0] or d['area'] > aRng[1]`, with areaRng [[0, 1e10], [0, 32²], [32², 96²],
    // [96², 1e10]]: both ends closed, so an area of exactly 32² = 1024 is small and medium, and 96² = 9216 is medium
    // and large. A half-open range drops such a box from one of its two ranges; the three cases below each see it.

    [Fact]
    public void AGroundTruthOfArea1024IsSmallAndMedium()
    {
        // 32×32 = 1024, found exactly: AP 1 in small ([0, 1024] holds it) and in medium ([1024, 9216] holds it).
        // [min, max) would make APs −1 (no small ground truth); (min, max] would make APm −1.
        var b = new CocoBox(10, 10, 32, 32);
        var s = CocoEvaluator.Evaluate(Gt(Ann(1, b)), [Det(b, 0.9)]).Stats;
        Assert.Equal(1, s.APs, 1e-12);
        Assert.Equal(1, s.APm, 1e-12);
        Assert.Equal(-1, s.APl);
        Assert.Equal(1, s.ARs, 1e-12);
        Assert.Equal(1, s.ARm, 1e-12);
    }

    [Fact]
    public void AGroundTruthOfArea9216IsMediumAndLarge()
    {
        // 96×96 = 9216, found exactly: AP 1 in medium and in large, none in small.
        var b = new CocoBox(100, 100, 96, 96);
        var s = CocoEvaluator.Evaluate(Gt(Ann(1, b)), [Det(b, 0.9)]).Stats;
        Assert.Equal(-1, s.APs);
        Assert.Equal(1, s.APm, 1e-12);
        Assert.Equal(1, s.APl, 1e-12);
        Assert.Equal(1, s.ARm, 1e-12);
        Assert.Equal(1, s.ARl, 1e-12);
    }

    [Fact]
    public void UnmatchedDetectionsOfArea1024And9216AreFalsePositivesOnBothSides()
    {
        // Image 1: a small ground truth (20×20 = 400) found at score 0.8, and an unmatched 32×32 = 1024 detection at 0.9.
        // Image 2: a medium ground truth (50×50 = 2500) found at score 0.8, and an unmatched 96×96 = 9216 detection at 0.9.
        // In small, the 1024 detection is inside [0, 1024], so it is a false positive ranked first: tp = [0, 1],
        // fp = [1, 1], precision [0, 0.5] → made monotone [0.5, 0.5], so every one of the 101 recall points reads 0.5
        // and APs = 0.5 (the 9216 one is outside small and ignored). In medium, likewise the 9216 detection ranks first
        // (the 1024 one also lies in medium and ranks with it: two false positives at 0.9 before the hit, 1/3).
        // Ranges open at the top ([0, 1024), [1024, 9216)) ignore those detections: APs = 1, APm = 1/2. Ranges open at
        // the bottom drop the 1024 ground truth from medium instead (the first case).
        var gt = Gt(Ann(1, new CocoBox(10, 10, 20, 20), image: 1), Ann(2, new CocoBox(10, 10, 50, 50), image: 2));
        var dts = new[]
        {
            Det(new CocoBox(200, 200, 32, 32), 0.9, image: 1), Det(new CocoBox(10, 10, 20, 20), 0.8, image: 1),
            Det(new CocoBox(200, 200, 96, 96), 0.9, image: 2), Det(new CocoBox(10, 10, 50, 50), 0.8, image: 2),
        };
        var s = CocoEvaluator.Evaluate(gt, dts).Stats;
        Assert.Equal(0.5, s.APs, 1e-12);
        Assert.Equal(1.0 / 3, s.APm, 1e-12);
        Assert.Equal(-1, s.APl);
    }

    [Fact]
    public void AnUnmatchedDetectionOutsideTheAreaRangeIsIgnoredThere()
    {
        // A small ground truth found, plus a large false positive: it costs AP in 'all' but not in 'small'.
        var g = new CocoBox(10, 10, 20, 20);
        var dts = new[] { Det(new CocoBox(200, 200, 150, 150), 0.9), Det(g, 0.8) };
        var s = CocoEvaluator.Evaluate(Gt(Ann(1, g)), dts).Stats;
        Assert.Equal(1, s.APs, 1e-12);
        Assert.True(s.AP < 0.51 && s.AP > 0.49, $"AP {s.AP}");
    }

    [Fact]
    public void CategoriesWithoutGroundTruthAreLeftOutOfTheAverages()
    {
        var b = new CocoBox(10, 10, 50, 50);
        var gt = new CocoDataset([new CocoImage(1, 640, 480, "1.jpg")], [Ann(1, b)], [new CocoCategory(1, "a"), new CocoCategory(7, "b")]);
        var eval = CocoEvaluator.Evaluate(gt, [Det(b, 0.9), Det(new CocoBox(100, 100, 30, 30), 0.95, cat: 7)]);
        Assert.Equal(1, eval.Stats.AP, 1e-12);
        Assert.Equal(-1, eval.PerCategory.Single(c => c.CategoryId == 7).Stats.AP);
        Assert.Equal(1, eval.PerCategory.Single(c => c.CategoryId == 1).Stats.AP, 1e-12);
    }

    [Fact]
    public void TiedScoresKeepTheResultsListOrder()
    {
        // Two detections with score 0.5: a false positive and a true positive. pycocotools' stable sort keeps list
        // order. FP first: tp = [0, 1], fp = [1, 1] → rc = [0, 1], pr = [0, .5] → envelope [.5, .5] → AP50 = 0.5.
        // TP first: rc = [1, 1], pr = [1, .5] → envelope [1, .5]; every recall point hits index 0 → AP50 = 1.
        var g = new CocoBox(10, 10, 50, 50);
        var gt = Gt(Ann(1, g));
        var fp = Det(new CocoBox(300, 300, 40, 40), 0.5);
        var tp = Det(g, 0.5);
        Assert.Equal(0.5, CocoEvaluator.Evaluate(gt, [fp, tp]).Stats.AP50, 1e-12);
        Assert.Equal(1, CocoEvaluator.Evaluate(gt, [tp, fp]).Stats.AP50, 1e-12);
    }

    [Fact]
    public void TiesAcrossImagesAreOrderedByImageId()
    {
        // accumulate concatenates images in id order before its stable sort: image 1's FP ties with image 2's TP
        // and comes first whatever the list order.
        var g = new CocoBox(10, 10, 50, 50);
        var gt = Gt(Ann(1, g, image: 2));
        var fp = Det(new CocoBox(300, 300, 40, 40), 0.5, image: 1);
        var tp = Det(g, 0.5, image: 2);
        Assert.Equal(0.5, CocoEvaluator.Evaluate(gt, [tp, fp]).Stats.AP50, 1e-12);
        Assert.Equal(0.5, CocoEvaluator.Evaluate(gt, [fp, tp]).Stats.AP50, 1e-12);
    }

    [Fact]
    public void OnlyTheTop100DetectionsOfAnImageCount()
    {
        // 100 false positives scored above the only true positive: it is the 101st and is cut.
        var g = new CocoBox(10, 10, 50, 50);
        var dts = Enumerable.Range(0, 100).Select(i => Det(new CocoBox(300 + i, 300, 20, 20), 0.9))
            .Append(Det(g, 0.1)).ToList();
        Assert.Equal(0, CocoEvaluator.Evaluate(Gt(Ann(1, g)), dts).Stats.AR100);
        dts.RemoveAt(0);
        Assert.Equal(1, CocoEvaluator.Evaluate(Gt(Ann(1, g)), dts).Stats.AR100, 1e-12);
    }

    [Fact]
    public void MaxDets1And10CutPerImage()
    {
        // Image with 3 objects found in score order: AR1 = 1/3, AR10 = 1.
        var boxes = new[] { new CocoBox(0, 0, 40, 40), new CocoBox(100, 0, 40, 40), new CocoBox(200, 0, 40, 40) };
        var gt = Gt(boxes.Select((b, i) => Ann(i + 1, b)).ToArray());
        var s = CocoEvaluator.Evaluate(gt, boxes.Select((b, i) => Det(b, 0.9 - 0.1 * i)).ToList()).Stats;
        Assert.Equal(1.0 / 3, s.AR1, 1e-12);
        Assert.Equal(1, s.AR10, 1e-12);
    }

    [Fact]
    public void RecallPointsAreNumpysLinspaceValues()
    {
        // 20 objects, 7 found (all ranked first): recall reaches 7/20 = 0.35. numpy's recall point 35 is
        // 35·0.01 = 0.35000000000000003 > 0.35, so precision there is 0: AP50 = 35/101, not 36/101.
        var boxes = Enumerable.Range(0, 20).Select(i => new CocoBox(30 * i, 10, 25, 25)).ToArray();
        var gt = Gt(boxes.Select((b, i) => Ann(i + 1, b)).ToArray());
        var s = CocoEvaluator.Evaluate(gt, boxes.Take(7).Select((b, i) => Det(b, 0.9 - 0.01 * i)).ToList()).Stats;
        Assert.Equal(35.0 / 101, s.AP50, 1e-12);
        Assert.Equal(0.35000000000000003, CocoEvalParams.Default.RecallThresholds[35]);
        Assert.Equal(0.75, CocoEvalParams.Default.IouThresholds[5]);
    }

    [Fact]
    public void ANonIgnoredMatchStopsAtTheIgnoredGroundTruths()
    {
        // A detection overlapping a real object (IoU 8100/11900 ≈ .68) and a crowd (IoU 1 by the crowd rule) takes the
        // real object: ground truths are visited non-ignored first and, holding a real match, the search stops at the
        // crowd. Without the rule the better IoU of the crowd would win, and the object would be missed (AP50 = 0).
        var real = new CocoBox(0, 0, 100, 100);
        var gt = Gt(Ann(1, new CocoBox(0, 0, 300, 300), crowd: true), Ann(2, real));
        var s = CocoEvaluator.Evaluate(gt, [Det(new CocoBox(10, 10, 100, 100), 0.9)]).Stats;
        Assert.Equal(1, s.AP50, 1e-12);
    }

    [Fact]
    public void FormatIsPycocotoolsLayout()
    {
        var gt = CocoDataset.Load(TestData.CocoEval("case01_crowd", "gt.json"));
        var eval = CocoEvaluator.Evaluate(gt, CocoResults.Load(TestData.CocoEval("case01_crowd", "dt.json"), gt));
        // Printed by Python from expected.json with pycocotools' iStr.
        const string expected =
            " Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.093\n" +
            " Average Precision  (AP) @[ IoU=0.50      | area=   all | maxDets=100 ] = 0.308\n" +
            " Average Precision  (AP) @[ IoU=0.75      | area=   all | maxDets=100 ] = 0.033\n" +
            " Average Precision  (AP) @[ IoU=0.50:0.95 | area= small | maxDets=100 ] = 0.017\n" +
            " Average Precision  (AP) @[ IoU=0.50:0.95 | area=medium | maxDets=100 ] = 0.164\n" +
            " Average Precision  (AP) @[ IoU=0.50:0.95 | area= large | maxDets=100 ] = 0.123\n" +
            " Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=  1 ] = 0.044\n" +
            " Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets= 10 ] = 0.197\n" +
            " Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.216\n" +
            " Average Recall     (AR) @[ IoU=0.50:0.95 | area= small | maxDets=100 ] = 0.017\n" +
            " Average Recall     (AR) @[ IoU=0.50:0.95 | area=medium | maxDets=100 ] = 0.279\n" +
            " Average Recall     (AR) @[ IoU=0.50:0.95 | area= large | maxDets=100 ] = 0.263\n";
        Assert.Equal(expected, eval.Format());
        Assert.Contains("thing", CocoEvaluator.Evaluate(Gt(Ann(1, new CocoBox(1, 1, 5, 5))), []).FormatPerCategory().Replace("c1", "thing"));
    }

    [Fact]
    public void ToJsonHasThe12Keys()
    {
        var b = new CocoBox(10, 10, 50, 50);
        var eval = CocoEvaluator.Evaluate(Gt(Ann(1, b)), [Det(b, 0.9)]);
        using var doc = JsonDocument.Parse(eval.ToJson());
        Assert.Equal(["AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"],
            doc.RootElement.EnumerateObject().Select(p => p.Name).ToArray());
        Assert.Equal(eval.Stats.AP50, eval.Stats[1]);
        Assert.Equal(eval.Stats.ToArray(), doc.RootElement.EnumerateObject().Select(p => p.Value.GetDouble()).ToArray());
    }

    [Theory]
    [InlineData(0.0625, "0.062")]
    [InlineData(0.1875, "0.188")]
    [InlineData(0.3125, "0.312")]
    [InlineData(0.5625, "0.562")]
    [InlineData(-1.0, "-1.000")]
    [InlineData(0.9995, "1.000")]
    [InlineData(0.0005, "0.001")]
    [InlineData(0.0015, "0.002")]
    [InlineData(0.12345, "0.123")]
    public void NumbersPrintAsPythonFormatsThem(double x, string python) => Assert.Equal(python, PyFormat.Fixed(x, 3));
}
