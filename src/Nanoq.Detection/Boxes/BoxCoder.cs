namespace Nanoq.Detection;

/// <summary>
/// Encodes boxes as regression targets relative to reference boxes (anchors) and decodes predicted deltas back
/// to boxes: torchvision's <c>det_utils.BoxCoder</c> (0.14), the R-CNN parameterization. Boxes follow the
/// contract of <see cref="Boxes"/> (x1, y1, x2, y2), no "+1" anywhere:
/// <code>
///   w = x2 − x1,  h = y2 − y1,  cx = x1 + 0.5w,  cy = y1 + 0.5h         (anchor a, box g)
///   encode:  dx = wx (g.cx − a.cx) / a.w     dy = wy (g.cy − a.cy) / a.h
///            dw = ww log(g.w / a.w)          dh = wh log(g.h / a.h)
///   decode:  dx' = dx / wx, dy' = dy / wy, dw' = min(dw / ww, clip), dh' = min(dh / wh, clip)
///            cx = dx' a.w + a.cx,  cy = dy' a.h + a.cy,  w = exp(dw') a.w,  h = exp(dh') a.h
///            box = (cx − 0.5w, cy − 0.5h, cx + 0.5w, cy + 0.5h)
/// </code>
/// clip = bbox_xform_clip = log(1000/16) keeps exp() from overflowing on wild predictions (a box at most 62.5×
/// its anchor); only the upper side is clamped, as in torchvision. RetinaNet uses weights (1, 1, 1, 1); Faster
/// R-CNN's box head (10, 10, 5, 5). All arithmetic is float32 in torchvision's order.
/// </summary>
public sealed class BoxCoder
{
    /// <summary>torchvision's default bbox_xform_clip, log(1000/16) ≈ 4.135 (as float32).</summary>
    public static readonly float DefaultBboxXformClip = (float)Math.Log(1000.0 / 16);

    public BoxCoder(float wx, float wy, float ww, float wh) : this(wx, wy, ww, wh, DefaultBboxXformClip) { }

    public BoxCoder(float wx, float wy, float ww, float wh, float bboxXformClip)
    {
        if (!(wx > 0 && wy > 0 && ww > 0 && wh > 0))
            throw new ArgumentOutOfRangeException(nameof(wx), $"BoxCoder weights must be positive, got ({wx}, {wy}, {ww}, {wh}).");
        Wx = wx; Wy = wy; Ww = ww; Wh = wh;
        BboxXformClip = bboxXformClip;
    }

    public float Wx { get; }
    public float Wy { get; }
    public float Ww { get; }
    public float Wh { get; }
    public float BboxXformClip { get; }

    /// <summary>
    /// encode_single: targets[i] = encoding of <paramref name="referenceBoxes"/>[i] (the matched ground-truth
    /// boxes) relative to <paramref name="proposals"/>[i] (the anchors), both n boxes; targets is [n, 4]
    /// (dx, dy, dw, dh). torchvision's parameter names: the "reference" is what gets encoded.
    /// </summary>
    public void EncodeSingle(ReadOnlySpan<float> referenceBoxes, ReadOnlySpan<float> proposals, Span<float> targets)
    {
        int n = Boxes.Count(proposals, nameof(proposals));
        if (referenceBoxes.Length != proposals.Length || targets.Length != proposals.Length)
            throw new ArgumentException($"EncodeSingle: {n} proposals need {n} reference boxes and {4 * n} target floats, " +
                                        $"got {referenceBoxes.Length / 4.0} and {targets.Length}.");
        float wx = Wx, wy = Wy, ww = Ww, wh = Wh;
        for (int k = 0; k < proposals.Length; k += 4)
        {
            float exW = proposals[k + 2] - proposals[k], exH = proposals[k + 3] - proposals[k + 1];
            float exCx = proposals[k] + 0.5f * exW, exCy = proposals[k + 1] + 0.5f * exH;
            float gtW = referenceBoxes[k + 2] - referenceBoxes[k], gtH = referenceBoxes[k + 3] - referenceBoxes[k + 1];
            float gtCx = referenceBoxes[k] + 0.5f * gtW, gtCy = referenceBoxes[k + 1] + 0.5f * gtH;
            targets[k] = wx * (gtCx - exCx) / exW;
            targets[k + 1] = wy * (gtCy - exCy) / exH;
            targets[k + 2] = ww * MathF.Log(gtW / exW);
            targets[k + 3] = wh * MathF.Log(gtH / exH);
        }
    }

    /// <summary>encode_single of [n, 4] reference boxes against [n, 4] proposals: a pooled [n, 4] tensor.</summary>
    public Tensor EncodeSingle(Tensor referenceBoxes, Tensor proposals)
    {
        int n = Boxes.Rows(proposals, nameof(EncodeSingle));
        if (Boxes.Rows(referenceBoxes, nameof(EncodeSingle)) != n)
            throw new ArgumentException($"EncodeSingle: {referenceBoxes.Shape} reference boxes for {proposals.Shape} proposals.");
        var t = Tensor.Empty(n, 4);
        EncodeSingle(referenceBoxes.Span, proposals.Span, t.Span);
        return t;
    }

    /// <summary>
    /// decode_single: boxes from deltas. <paramref name="relCodes"/> is [n, 4K] (K = 1 for class-agnostic
    /// regression as in RetinaNet; K classes for a class-specific head), <paramref name="boxes"/> the n reference
    /// boxes; <paramref name="predBoxes"/> is [n, 4K], row i decoded against box i.
    /// </summary>
    public void DecodeSingle(ReadOnlySpan<float> relCodes, ReadOnlySpan<float> boxes, Span<float> predBoxes)
    {
        int n = Boxes.Count(boxes, nameof(boxes));
        if (n == 0 ? relCodes.Length != 0 : relCodes.Length % boxes.Length != 0)
            throw new ArgumentException($"DecodeSingle: {relCodes.Length} codes do not divide into rows of 4K for {n} boxes.");
        if (predBoxes.Length != relCodes.Length)
            throw new ArgumentException($"DecodeSingle: output length {predBoxes.Length} != codes length {relCodes.Length}.");
        if (n == 0) return;
        int row = relCodes.Length / n;
        float wx = Wx, wy = Wy, ww = Ww, wh = Wh, clip = BboxXformClip;
        for (int i = 0; i < n; i++)
        {
            var b = boxes.Slice(4 * i, 4);
            float widths = b[2] - b[0], heights = b[3] - b[1];
            float ctrX = b[0] + 0.5f * widths, ctrY = b[1] + 0.5f * heights;
            var codes = relCodes.Slice(i * row, row);
            var pred = predBoxes.Slice(i * row, row);
            for (int k = 0; k < row; k += 4)
            {
                float dx = codes[k] / wx, dy = codes[k + 1] / wy;
                // torch.clamp(max=clip): upper side only; MathF.Min keeps a NaN delta NaN, like torch.
                float dw = MathF.Min(codes[k + 2] / ww, clip), dh = MathF.Min(codes[k + 3] / wh, clip);
                float predCtrX = dx * widths + ctrX, predCtrY = dy * heights + ctrY;
                float predW = MathF.Exp(dw) * widths, predH = MathF.Exp(dh) * heights;
                float cToCW = 0.5f * predW, cToCH = 0.5f * predH;
                pred[k] = predCtrX - cToCW;
                pred[k + 1] = predCtrY - cToCH;
                pred[k + 2] = predCtrX + cToCW;
                pred[k + 3] = predCtrY + cToCH;
            }
        }
    }

    /// <summary>decode_single of [n, 4K] codes against [n, 4] boxes: a pooled [n, 4K] tensor.</summary>
    public Tensor DecodeSingle(Tensor relCodes, Tensor boxes)
    {
        int n = Boxes.Rows(boxes, nameof(DecodeSingle));
        if (relCodes.Rank != 2 || relCodes.Dim(0) != n || relCodes.Dim(1) % 4 != 0)
            throw new ArgumentException($"DecodeSingle: codes must be [{n}, 4K], got {relCodes.Shape}.");
        var t = Tensor.Empty(relCodes.Shape);
        DecodeSingle(relCodes.Span, boxes.Span, t.Span);
        return t;
    }
}
