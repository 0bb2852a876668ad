using System.Buffers;

namespace Nanoq.Detection;

/// <summary>
/// Turns the RPN's raw outputs into proposals: torchvision's <c>RegionProposalNetwork</c> decoding and
/// <c>filter_proposals</c> (0.14). For each image, with its anchors in <see cref="AnchorGenerator"/>'s order:
/// <list type="number">
/// <item>decode the deltas against the anchors with BoxCoder(1, 1, 1, 1) (bbox_xform_clip = log(1000/16));</item>
/// <item>per level, keep the pre_nms_top_n anchors of highest objectness (logits; ties by index);</item>
/// <item>score = sigmoid(objectness); clip boxes to the image (height, width); drop boxes narrower or lower than
/// min_size (1e-3); drop scores below score_thresh (<c>&gt;=</c> keeps, as torchvision);</item>
/// <item>NMS at 0.7 within each level (batched_nms with the level as the class), sorted by score;</item>
/// <item>keep the first post_nms_top_n.</item>
/// </list>
/// Faster R-CNN's defaults: pre/post 2000/2000 in training, 1000/1000 at test. The proposals carry no gradient
/// (torchvision detaches them).
/// </summary>
public sealed class RpnProposalFilter
{
    public RpnProposalFilter(int preNmsTopN, int postNmsTopN, double nmsThresh = 0.7, float scoreThresh = 0f, float minSize = 1e-3f)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(preNmsTopN);
        ArgumentOutOfRangeException.ThrowIfNegative(postNmsTopN);
        PreNmsTopN = preNmsTopN; PostNmsTopN = postNmsTopN; NmsThresh = nmsThresh; ScoreThresh = scoreThresh; MinSize = minSize;
    }

    /// <summary>torchvision's fasterrcnn_resnet50_fpn settings: 2000/2000 in training, 1000/1000 at test.</summary>
    public static RpnProposalFilter FasterRcnn(bool training) => training ? new(2000, 2000) : new(1000, 1000);

    public int PreNmsTopN { get; }
    public int PostNmsTopN { get; }
    public double NmsThresh { get; }
    public float ScoreThresh { get; }
    public float MinSize { get; }

    /// <summary>The RPN's box coder, weights (1, 1, 1, 1).</summary>
    public static BoxCoder BoxCoder { get; } = new(1f, 1f, 1f, 1f);

    /// <summary>
    /// Proposals of a batch: <paramref name="deltas"/> [N·A, 4] decoded against the same [A, 4]
    /// <paramref name="anchors"/> for every image (anchors depend on the padded batch size only): [N·A, 4].
    /// </summary>
    public static float[] Decode(ReadOnlySpan<float> deltas, ReadOnlySpan<float> anchors, int numImages)
    {
        int a = Boxes.Count(anchors, nameof(anchors));
        if (deltas.Length != 4L * a * numImages) throw new ArgumentException($"Decode: {numImages} images of {a} anchors need {4L * a * numImages} deltas, got {deltas.Length}.");
        var boxes = new float[deltas.Length];
        Decode(deltas, anchors, numImages, boxes);
        return boxes;
    }

    /// <summary>As <see cref="Decode(ReadOnlySpan{float}, ReadOnlySpan{float}, int)"/>, into <paramref name="boxes"/> [N·A, 4].</summary>
    public static void Decode(ReadOnlySpan<float> deltas, ReadOnlySpan<float> anchors, int numImages, Span<float> boxes)
    {
        int a = Boxes.Count(anchors, nameof(anchors));
        if (deltas.Length != 4L * a * numImages || boxes.Length != deltas.Length)
            throw new ArgumentException($"Decode: {numImages} images of {a} anchors need {4L * a * numImages} deltas and boxes, got {deltas.Length} and {boxes.Length}.");
        for (int i = 0; i < numImages; i++)
            BoxCoder.DecodeSingle(deltas.Slice(4 * a * i, 4 * a), anchors, boxes.Slice(4 * a * i, 4 * a));
    }

    /// <summary>
    /// filter_proposals: <paramref name="proposals"/> [N·A, 4] decoded boxes, <paramref name="objectness"/> [N·A] logits,
    /// <paramref name="numAnchorsPerLevel"/> summing to A, one (height, width) per image.
    /// </summary>
    public RpnProposals[] Filter(ReadOnlySpan<float> proposals, ReadOnlySpan<float> objectness, ReadOnlySpan<int> numAnchorsPerLevel,
                                 IReadOnlyList<(int Height, int Width)> imageSizes)
    {
        int numImages = imageSizes.Count, a = 0;
        foreach (int c in numAnchorsPerLevel) a += c;
        if (objectness.Length != (long)numImages * a || proposals.Length != 4L * numImages * a)
            throw new ArgumentException($"Filter: {numImages} images of {a} anchors need {numImages * a} scores and {4 * numImages * a} box floats, " +
                                        $"got {objectness.Length} and {proposals.Length}.");
        var ob = ArrayPool<float>.Shared.Rent(objectness.Length);
        var pr = ArrayPool<float>.Shared.Rent(proposals.Length);
        try
        {
            objectness.CopyTo(ob);
            proposals.CopyTo(pr);
            return Filter(pr, default, ob, a, numAnchorsPerLevel.ToArray(), imageSizes);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(ob);
            ArrayPool<float>.Shared.Return(pr);
        }
    }

    /// <summary>
    /// <see cref="Filter(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{int}, IReadOnlyList{ValueTuple{int, int}})"/>
    /// on arrays holding at least N images of <paramref name="anchors"/> anchors (pooled arrays may be longer). With
    /// <paramref name="anchorBoxes"/> ([A, 4], the same for every image; empty: <paramref name="boxes"/> are decoded), <paramref name="boxes"/> holds the raw deltas
    /// and only the anchors kept by the top-n are decoded — the same boxes as decoding all (each box decodes alone),
    /// a fifth of the work at the test filter's 1000 of 4 800 on the largest level. Images are independent and filtered
    /// in parallel, each writing its own result (the same proposals whatever the split).
    /// </summary>
    internal RpnProposals[] Filter(float[] boxes, ReadOnlyMemory<float> anchorBoxes, float[] objectness, int anchors, int[] numAnchorsPerLevel,
                                   IReadOnlyList<(int Height, int Width)> imageSizes)
    {
        int numImages = imageSizes.Count;
        if (objectness.Length < (long)numImages * anchors || boxes.Length < 4L * numImages * anchors || numAnchorsPerLevel.Sum() != anchors
            || !anchorBoxes.IsEmpty && anchorBoxes.Length != 4L * anchors)
            throw new ArgumentException($"Filter: {numImages} images of {anchors} anchors need {numImages * anchors} scores and {4 * numImages * anchors} box floats.");
        var result = new RpnProposals[numImages];
        if (numImages == 1)
        {
            // One image (batch 1): its levels side by side instead.
            result[0] = FilterImage(objectness, 0, boxes, 0, anchorBoxes, numAnchorsPerLevel, imageSizes[0]);
            return result;
        }
        Nanoq.Kernels.WorkSplit.For(numImages, 16L * anchors, (i0, i1) =>
        {
            for (int i = i0; i < i1; i++)
                result[i] = FilterImage(objectness, anchors * i, boxes, 4 * anchors * i, anchorBoxes, numAnchorsPerLevel, imageSizes[i]);
        });
        return result;
    }

    /// <summary>
    /// filter_proposals for one image: its [A] logits from <paramref name="ob"/>[<paramref name="obStart"/>…] and [A, 4]
    /// decoded boxes from <paramref name="pr"/>[<paramref name="prStart"/>…] — or, with <paramref name="anchors"/> ([A, 4];
    /// empty: decoded), its [A, 4] deltas, of which the picked ones are decoded. batched_nms with the level as the class
    /// never compares boxes of two levels, so each level is filtered and suppressed on its own (the levels side by side on
    /// the kernel threads), then the kept boxes of all levels are ordered as batched_nms orders them: score descending,
    /// ties by position in the level-major list of candidates.
    /// </summary>
    private RpnProposals FilterImage(float[] ob, int obStart, float[] pr, int prStart, ReadOnlyMemory<float> anchors, int[] numAnchorsPerLevel,
                                     (int Height, int Width) imageSize)
    {
        int levels = numAnchorsPerLevel.Length;
        var perLevel = new LevelCandidates[levels];
        var levelStart = new int[levels + 1];
        for (int l = 0; l < levels; l++) levelStart[l + 1] = levelStart[l] + numAnchorsPerLevel[l];
        Nanoq.Kernels.WorkSplit.Tasks(levels, l =>
            perLevel[l] = FilterLevel(ob.AsSpan(obStart + levelStart[l], numAnchorsPerLevel[l]),
                                      pr.AsSpan(prStart + 4 * levelStart[l], 4 * numAnchorsPerLevel[l]),
                                      anchors.IsEmpty ? default : anchors.Span.Slice(4 * levelStart[l], 4 * numAnchorsPerLevel[l]), imageSize));
        // batched_nms's output order over the levels' kept boxes: (score desc, index in the level-major candidates asc).
        int total = 0;
        foreach (var c in perLevel) total += c.Kept.Length;
        var keys = new ulong[total];
        for (int l = 0, k = 0, offset = 0; l < levels; offset += perLevel[l].Scores.Length, l++)
            foreach (int q in perLevel[l].Kept)
            {
                keys[k] = ScoreOrder.Key(perLevel[l].Scores[q], offset + q);
                k++;
            }
        Array.Sort(keys);
        int n = Math.Min(total, PostNmsTopN);
        var fb = new float[4 * n];
        var fs = new float[n];
        for (int k = 0; k < n; k++)
        {
            int index = ScoreOrder.Index(keys[k]), l = 0, offset = 0;
            while (index - offset >= perLevel[l].Scores.Length) { offset += perLevel[l].Scores.Length; l++; }
            int q = index - offset;
            perLevel[l].Boxes.AsSpan(4 * q, 4).CopyTo(fb.AsSpan(4 * k, 4));
            fs[k] = perLevel[l].Scores[q];
        }
        return new RpnProposals(fb, fs);
    }

    /// <summary>One level's candidates after the score and size filters (boxes [m, 4], scores [m]) and the positions NMS keeps, by score descending.</summary>
    private readonly record struct LevelCandidates(float[] Boxes, float[] Scores, int[] Kept);

    /// <summary>
    /// One level of one image: the pre_nms_top_n anchors of highest objectness (ties by index), decoded (when
    /// <paramref name="anchors"/> is given), scored, clipped, filtered by size then score, in that order; then NMS.
    /// </summary>
    private LevelCandidates FilterLevel(ReadOnlySpan<float> ob, ReadOnlySpan<float> pr, ReadOnlySpan<float> anchors, (int Height, int Width) imageSize)
    {
        var picked = TopK.Select(ob, Math.Min(PreNmsTopN, ob.Length));
        int m = picked.Length;
        var boxes = new float[4 * m];
        var scores = new float[m];
        for (int k = 0; k < m; k++)
        {
            if (anchors.IsEmpty) pr.Slice(4 * picked[k], 4).CopyTo(boxes.AsSpan(4 * k, 4));
            else BoxCoder.DecodeSingle(pr.Slice(4 * picked[k], 4), anchors.Slice(4 * picked[k], 4), boxes.AsSpan(4 * k, 4));
            scores[k] = Sigmoid(ob[picked[k]]);
        }
        var (h, w) = imageSize;
        Boxes.ClipToImage(boxes, h, w, boxes);
        // remove_small_boxes, then the score threshold, in that order.
        var keep = new List<int>(m);
        foreach (int k in Boxes.RemoveSmall(boxes, MinSize))
            if (scores[k] >= ScoreThresh) keep.Add(k);
        var kb = new float[4 * keep.Count];
        var ks = new float[keep.Count];
        for (int k = 0; k < keep.Count; k++)
        {
            boxes.AsSpan(4 * keep[k], 4).CopyTo(kb.AsSpan(4 * k, 4));
            ks[k] = scores[keep[k]];
        }
        // No level can place more than post_nms_top_n boxes in the result: NMS may stop there (the same first boxes).
        return new LevelCandidates(kb, ks, NonMaxSuppression.Nms(kb, ks, NmsThresh, PostNmsTopN));
    }

    /// <summary>σ(x) = 1 / (1 + e^−x) in float32.</summary>
    private static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));
}
