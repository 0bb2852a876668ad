using Nanoq.Kernels;

namespace Nanoq.Detection;

/// <summary>
/// Detections from the box head's outputs: torchvision's <c>RoIHeads.postprocess_detections</c> (0.14). Per image:
/// <list type="number">
/// <item>decode every class's deltas against the proposal with BoxCoder(10, 10, 5, 5); scores = softmax over classes;</item>
/// <item>clip the boxes to the image (height, width); drop the background column (class 0);</item>
/// <item>one candidate per (proposal, class), proposal-major; keep scores &gt; score_thresh (0.05);</item>
/// <item>drop boxes narrower or lower than min_size (1e-2);</item>
/// <item>NMS within each class at 0.5, sorted by score; keep the first detections_per_img (100).</item>
/// </list>
/// The result uses Nanoq's label convention: predictor class c (1..K) is label c − 1 in <see cref="Detections"/>.
/// </summary>
public sealed class RoiHeadPostprocessor
{
    public RoiHeadPostprocessor(float scoreThresh = 0.05f, double nmsThresh = 0.5, int detectionsPerImage = 100, float minSize = 1e-2f)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(detectionsPerImage);
        ScoreThresh = scoreThresh; NmsThresh = nmsThresh; DetectionsPerImage = detectionsPerImage; MinSize = minSize;
    }

    public float ScoreThresh { get; }
    public double NmsThresh { get; }
    public int DetectionsPerImage { get; }
    public float MinSize { get; }

    /// <summary>
    /// <paramref name="classLogits"/> [R, C] and <paramref name="boxRegression"/> [R, 4C] for the R proposals of the batch
    /// (images concatenated; <paramref name="proposals"/>[i] flat [R_i·4]); one (height, width) per image.
    /// </summary>
    public Detections[] Postprocess(Tensor classLogits, Tensor boxRegression, IReadOnlyList<float[]> proposals,
                                    IReadOnlyList<(int Height, int Width)> imageSizes)
    {
        if (classLogits.Rank != 2) throw new ArgumentException($"Postprocess: class logits must be [R, C], got {classLogits.Shape}.");
        int r = classLogits.Dim(0), c = classLogits.Dim(1);
        int total = proposals.Sum(p => Boxes.Count(p, nameof(proposals)));
        if (total != r || boxRegression.Size != 4 * r * c || proposals.Count != imageSizes.Count)
            throw new ArgumentException($"Postprocess: {r} rows of {c} classes, {boxRegression.Shape} deltas, {total} proposals over " +
                                        $"{proposals.Count} images with {imageSizes.Count} sizes.");
        var scores = new float[r * c];
        Softmax.Forward(classLogits.Span, r, c, 1, scores);
        var result = new Detections[proposals.Count];
        int row = 0;
        for (int i = 0; i < proposals.Count; i++)
        {
            var props = proposals[i];
            int n = props.Length / 4;
            var boxes = new float[4 * n * c];
            BoxCoder.DecodeSingle(boxRegression.Span.Slice(4 * c * row, 4 * c * n), props, boxes);
            var (h, w) = imageSizes[i];
            Boxes.ClipToImage(boxes, h, w, boxes);
            var candBoxes = new List<float>();
            var candScores = new List<float>();
            var candClasses = new List<int>();
            for (int j = 0; j < n; j++)
                for (int k = 1; k < c; k++)
                {
                    float sc = scores[(row + j) * c + k];
                    if (!(sc > ScoreThresh)) continue;
                    candBoxes.AddRange(boxes.AsSpan(4 * (j * c + k), 4));
                    candScores.Add(sc);
                    candClasses.Add(k);
                }
            var cb = candBoxes.ToArray();
            var keep = Boxes.RemoveSmall(cb, MinSize);
            var kb = new float[4 * keep.Length];
            var ks = new float[keep.Length];
            var kc = new int[keep.Length];
            for (int j = 0; j < keep.Length; j++)
            {
                cb.AsSpan(4 * keep[j], 4).CopyTo(kb.AsSpan(4 * j, 4));
                ks[j] = candScores[keep[j]];
                kc[j] = candClasses[keep[j]];
            }
            var nms = NonMaxSuppression.BatchedNms(kb, ks, kc, NmsThresh, DetectionsPerImage);
            var db = new float[4 * nms.Length];
            var ds = new float[nms.Length];
            var dl = new int[nms.Length];
            for (int j = 0; j < nms.Length; j++)
            {
                kb.AsSpan(4 * nms[j], 4).CopyTo(db.AsSpan(4 * j, 4));
                ds[j] = ks[nms[j]];
                dl[j] = kc[nms[j]] - 1;
            }
            result[i] = new Detections(db, ds, dl);
            row += n;
        }
        return result;
    }

    private static BoxCoder BoxCoder => RoiHeadTargets.BoxCoder;
}
