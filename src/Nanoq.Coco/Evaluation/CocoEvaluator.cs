namespace Nanoq.Coco.Evaluation;

/// <summary>
/// COCO bbox evaluation that reproduces pycocotools' <c>COCOeval(iouType="bbox")</c>: evaluate, accumulate and
/// summarize with the default parameters (<see cref="CocoEvalParams.Default"/>).
/// <para>
/// Everything pycocotools does is kept, including its choices on ties: per image × category the detections are
/// sorted by score with ties in results-list order and cut to 100; ground truths of equal standing are tried in
/// file order; crowd IoU divides by the detection's area; area ranges read the ground truth's <c>area</c> field.
/// The one deliberate difference: a ground truth with id 0 is matched like any other (pycocotools treats a match
/// to id 0 as no match).
/// </para>
/// Categories are independent, so they are evaluated in parallel; the result does not depend on thread timing.
/// </summary>
public static class CocoEvaluator
{
    /// <summary>
    /// Evaluates <paramref name="detections"/> against <paramref name="groundTruth"/>. Detections are validated first
    /// (<see cref="CocoResults.Validate"/>): every image and category must be in the ground truth.
    /// </summary>
    public static CocoEvalResult Evaluate(CocoDataset groundTruth, IReadOnlyList<CocoResult> detections, string resultsName = "<results>")
    {
        CocoResults.Validate(detections, groundTruth, resultsName);
        var p = CocoEvalParams.Default;
        var x = new EvalInputs(groundTruth, detections, p.MaxDets[^1]);

        int numK = x.CategoryIds.Length, numA = p.AreaRanges.Count, numM = p.MaxDets.Count;
        int numT = p.IouThresholds.Count, numR = p.RecallThresholds.Count;
        var precision = new double[numT * numR * numK * numA * numM];
        var recall = new double[numT * numK * numA * numM];
        Array.Fill(precision, -1.0);
        Array.Fill(recall, -1.0);

        int numDt = x.DtBox.Length;
        var matched = new uint[numA][];
        var ignored = new uint[numA][];
        for (int a = 0; a < numA; a++) { matched[a] = new uint[numDt]; ignored[a] = new uint[numDt]; }

        Parallel.For(0, numK,
            () => (Matcher: new ImageMatcher(p), Accumulator: new PrecisionAccumulator(p, numK)),
            (k, _, s) =>
            {
                var npig = new int[numA];
                MatchCategory(x, k, s.Matcher, matched, ignored, npig);
                s.Accumulator.Accumulate(x, k, npig, matched, ignored, precision, recall);
                return s;
            },
            _ => { });

        return new CocoEvalResult(p, groundTruth, x, precision, recall);
    }

    /// <summary>Walks the images of category k that have ground truths or detections, in image-id order.</summary>
    private static void MatchCategory(EvalInputs x, int k, ImageMatcher matcher, uint[][] matched, uint[][] ignored, int[] npig)
    {
        int g = x.GtCategoryStart[k], gEnd = x.GtCategoryStart[k + 1];
        int d = x.DtCategoryStart[k], dEnd = x.DtCategoryStart[k + 1];
        while (g < gEnd || d < dEnd)
        {
            int image = Math.Min(g < gEnd ? x.GtImage[g] : int.MaxValue, d < dEnd ? x.DtImage[d] : int.MaxValue);
            int g1 = g, d1 = d;
            while (g1 < gEnd && x.GtImage[g1] == image) g1++;
            while (d1 < dEnd && x.DtImage[d1] == image) d1++;
            matcher.Match(x, g, g1, d, d1, matched, ignored, npig);
            g = g1;
            d = d1;
        }
    }
}
