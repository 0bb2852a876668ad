namespace Nanoq.Detection;

/// <summary>
/// The RPN's training targets for one image: torchvision's <c>RegionProposalNetwork.assign_targets_to_anchors</c> (0.14).
/// Anchors are matched to ground truth by IoU with Matcher(0.7, 0.3, allow_low_quality_matches = true):
/// <code>
///   label = 1 (foreground, IoU ≥ 0.7 or a ground truth's best anchor), 0 (background, IoU &lt; 0.3), −1 (between: ignored)
///   matched box = gt[max(match, 0)]      (regression targets are only used where label = 1)
/// </code>
/// An image without ground truth makes every anchor background with zero matched boxes. Regression targets encode
/// the matched boxes against the anchors with BoxCoder(1, 1, 1, 1).
/// </summary>
public static class RpnTargets
{
    /// <summary>Faster R-CNN's RPN matcher: fg IoU 0.7, bg 0.3, low-quality matches allowed.</summary>
    public static Matcher Matcher() => new(0.7f, 0.3f, allowLowQualityMatches: true);

    /// <summary>Labels (1 / 0 / −1) of the [A, 4] anchors and their matched ground-truth boxes [A, 4].</summary>
    public static (int[] Labels, float[] MatchedGtBoxes) AssignTargetsToAnchors(ReadOnlySpan<float> anchors, ReadOnlySpan<float> gtBoxes, Matcher matcher)
    {
        ArgumentNullException.ThrowIfNull(matcher);
        int a = Boxes.Count(anchors, nameof(anchors)), g = Boxes.Count(gtBoxes, nameof(gtBoxes));
        var labels = new int[a];
        var matched = new float[4 * a];
        if (g == 0) return (labels, matched);
        var iou = new float[(long)g * a];
        Boxes.Iou(gtBoxes, anchors, iou);
        var matches = matcher.Match(iou, g, a);
        for (int j = 0; j < a; j++)
        {
            int m = matches[j];
            gtBoxes.Slice(4 * Math.Max(m, 0), 4).CopyTo(matched.AsSpan(4 * j, 4));
            labels[j] = m >= 0 ? 1 : m == Detection.Matcher.BelowLowThreshold ? 0 : -1;
        }
        return (labels, matched);
    }

    /// <summary>Regression targets [A, 4] of matched boxes against anchors, BoxCoder(1, 1, 1, 1).</summary>
    public static float[] RegressionTargets(ReadOnlySpan<float> matchedGtBoxes, ReadOnlySpan<float> anchors)
    {
        var t = new float[anchors.Length];
        RpnProposalFilter.BoxCoder.EncodeSingle(matchedGtBoxes, anchors, t);
        return t;
    }
}
