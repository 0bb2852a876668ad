namespace Nanoq.Detection;

/// <summary>
/// Training targets of the RoI heads for one image: torchvision's <c>RoIHeads.select_training_samples</c> (0.14).
/// <list type="number">
/// <item>add_gt_proposals: the ground-truth boxes are appended to the proposals (so every object has a perfect RoI);</item>
/// <item>match by IoU with Matcher(0.5, 0.5) (no low-quality matches): class = gt label + 1 where IoU ≥ 0.5,
/// 0 (background) below; an image without ground truth is all background, matched to index 0;</item>
/// <item>sample with <see cref="BalancedPositiveNegativeSampler"/> (512 at 25%): the union of the sampled positives and
/// negatives, ascending;</item>
/// <item>regression targets: the matched ground truth encoded against the sampled proposals with BoxCoder(10, 10, 5, 5)
/// (for an image without ground truth the matched box is (0, 0, 0, 0), whose encoding is −∞ in dw/dh as in torchvision;
/// those rows are background and never reach the loss).</item>
/// </list>
/// Labels: Nanoq's targets carry contiguous classes [0, K); the predictor's class 0 is background, so label c is class c + 1.
/// </summary>
public static class RoiHeadTargets
{
    /// <summary>The box head's coder, weights (10, 10, 5, 5).</summary>
    public static BoxCoder BoxCoder { get; } = new(10f, 10f, 5f, 5f);

    /// <summary>Faster R-CNN's proposal matcher: IoU 0.5 for both thresholds, no low-quality matches.</summary>
    public static Matcher Matcher() => new(0.5f, 0.5f, allowLowQualityMatches: false);

    /// <summary>
    /// Steps 1–2: the proposals with the ground truth appended ([P + G]·4), each one's matched ground truth (clamped)
    /// and class (0 background, label + 1 foreground, −1 ignored between thresholds).
    /// </summary>
    public static (float[] Proposals, int[] MatchedIdxs, int[] Classes) Assign(ReadOnlySpan<float> proposals, ReadOnlySpan<float> gtBoxes,
                                                                             ReadOnlySpan<int> gtLabels, Matcher matcher)
    {
        ArgumentNullException.ThrowIfNull(matcher);
        int p = Boxes.Count(proposals, nameof(proposals)), g = Boxes.Count(gtBoxes, nameof(gtBoxes));
        if (gtLabels.Length != g) throw new ArgumentException($"RoiHeadTargets: {g} ground-truth boxes but {gtLabels.Length} labels.");
        var all = new float[4 * (p + g)];
        proposals.CopyTo(all);
        gtBoxes.CopyTo(all.AsSpan(4 * p));
        int n = p + g;
        var matched = new int[n];
        var classes = new int[n];
        if (g == 0) return (all, matched, classes);
        var iou = new float[(long)g * n];
        Boxes.Iou(gtBoxes, all, iou);
        var matches = matcher.Match(iou, g, n);
        for (int j = 0; j < n; j++)
        {
            int m = matches[j];
            matched[j] = Math.Max(m, 0);
            classes[j] = m >= 0 ? gtLabels[m] + 1 : m == Detection.Matcher.BelowLowThreshold ? 0 : -1;
        }
        return (all, matched, classes);
    }

    /// <summary>The sampled training RoIs of one image, drawn with <paramref name="sampler"/> from <paramref name="rng"/>.</summary>
    public static RoiHeadSamples Select(ReadOnlySpan<float> proposals, ReadOnlySpan<float> gtBoxes, ReadOnlySpan<int> gtLabels,
                                        BalancedPositiveNegativeSampler sampler, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(sampler);
        var (all, matched, classes) = Assign(proposals, gtBoxes, gtLabels, Matcher());
        var (pos, neg) = sampler.Sample(classes, rng);
        return Gather(all, matched, classes, gtBoxes, pos, neg);
    }

    /// <summary>
    /// The sampled training RoIs for given sampled indices (into proposals + ground truth, as the sampler would give
    /// them): the form the torchvision fixtures replay.
    /// </summary>
    public static RoiHeadSamples Select(ReadOnlySpan<float> proposals, ReadOnlySpan<float> gtBoxes, ReadOnlySpan<int> gtLabels,
                                        int[] sampledPositive, int[] sampledNegative)
    {
        var (all, matched, classes) = Assign(proposals, gtBoxes, gtLabels, Matcher());
        return Gather(all, matched, classes, gtBoxes, sampledPositive, sampledNegative);
    }

    private static RoiHeadSamples Gather(float[] all, int[] matched, int[] classes, ReadOnlySpan<float> gtBoxes, int[] pos, int[] neg)
    {
        var sampled = pos.Concat(neg).Distinct().ToArray();
        Array.Sort(sampled);
        int s = sampled.Length;
        var props = new float[4 * s];
        var idx = new int[s];
        var cls = new int[s];
        var gt = new float[4 * s];
        ReadOnlySpan<float> gtOrZero = gtBoxes.Length == 0 ? stackalloc float[4] : gtBoxes;
        for (int k = 0; k < s; k++)
        {
            int j = sampled[k];
            if ((uint)j >= (uint)classes.Length) throw new ArgumentOutOfRangeException(nameof(pos), $"sampled index {j} is outside the {classes.Length} RoIs.");
            all.AsSpan(4 * j, 4).CopyTo(props.AsSpan(4 * k, 4));
            idx[k] = matched[j];
            cls[k] = classes[j];
            gtOrZero.Slice(4 * matched[j], 4).CopyTo(gt.AsSpan(4 * k, 4));
        }
        var targets = new float[4 * s];
        BoxCoder.EncodeSingle(gt, props, targets);
        return new RoiHeadSamples(props, idx, cls, targets);
    }
}
