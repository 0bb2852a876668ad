namespace Nanoq.Detection.Integer;

/// <summary>
/// RetinaNet's shared subnets on codes, as <see cref="RetinaNetHead"/>: per level, n × (3×3 conv, ReLU as the clamp
/// at z_y) then the class predictor (A·K channels) and the box predictor (A·4).
/// <para>
/// Every conv position holds one layer per pyramid level, [position][level]. The float head shares its convs across
/// levels, but the conv that reads the pyramid (the first of each subnet, or the predictors when n = 0) sees P3 … P7
/// on five different grids, so it has five variants (<see cref="IIntUnit"/>: shared weight codes, per-level z_x,
/// bias_q and multipliers); later convs read the shared output grid of the conv before and are the same object at
/// every level.
/// </para>
/// Each level's [N, A·C, H, W] codes are written straight into [N, ΣHWA, C] at that level's anchor offset:
/// <code>
///     out[n, base_l + (y·W + x)·A + a, c] = in[n, a·C + c, y, x]
/// </code>
/// </summary>
public sealed class IntRetinaNetHead
{
    public IntRetinaNetHead(IReadOnlyList<IReadOnlyList<IntConvUnit>> cls, IReadOnlyList<IReadOnlyList<IntConvUnit>> box,
        IReadOnlyList<IntConvUnit> clsLogits, IReadOnlyList<IntConvUnit> bboxPred, int numAnchors, int numClasses)
    {
        if (cls.Count != box.Count) throw new ArgumentException($"IntRetinaNetHead: {cls.Count} class convs but {box.Count} box convs.");
        int levels = clsLogits.Count;
        if (levels < 1 || bboxPred.Count != levels || cls.Concat(box).Any(p => p.Count != levels))
            throw new ArgumentException($"IntRetinaNetHead: every conv position needs one layer for each of the {levels} levels.");
        if (clsLogits.Any(c => c.OutChannels != numAnchors * numClasses) || bboxPred.Any(b => b.OutChannels != numAnchors * 4))
            throw new ArgumentException($"IntRetinaNetHead: predictors must have {numAnchors}·{numClasses} and {numAnchors}·4 channels.");
        ClsConvs = cls;
        BoxConvs = box;
        ClsLogits = clsLogits;
        BboxPred = bboxPred;
        NumAnchors = numAnchors;
        NumClasses = numClasses;
    }

    /// <summary>[position][level].</summary>
    public IReadOnlyList<IReadOnlyList<IntConvUnit>> ClsConvs { get; }

    /// <summary>[position][level].</summary>
    public IReadOnlyList<IReadOnlyList<IntConvUnit>> BoxConvs { get; }

    /// <summary>[level].</summary>
    public IReadOnlyList<IntConvUnit> ClsLogits { get; }

    /// <summary>[level].</summary>
    public IReadOnlyList<IntConvUnit> BboxPred { get; }

    public int NumLevels => ClsLogits.Count;
    public int NumAnchors { get; }
    public int NumClasses { get; }

    /// <summary>
    /// Pyramid levels → head codes, not in arena buffers (they outlive the pass): in <paramref name="reuse"/>'s arrays when
    /// their sizes fit (a caller that consumes the codes before the next pass saves fresh pages), else in new ones.
    /// </summary>
    public IntHeadCodes Forward(IReadOnlyList<CodeTensor> levels, int imageHeight, int imageWidth, IntForwardContext ctx, IntHeadCodes? reuse = null)
    {
        if (levels.Count != NumLevels) throw new ArgumentException($"IntRetinaNetHead: {levels.Count} levels, converted for {NumLevels}.");
        int n = levels[0].Batch, total = 0;
        var grids = new (int Height, int Width)[levels.Count];
        for (int l = 0; l < levels.Count; l++)
        {
            grids[l] = (levels[l].Height, levels[l].Width);
            total += levels[l].Height * levels[l].Width * NumAnchors;
        }
        long logitsLength = (long)n * total * NumClasses, deltasLength = (long)n * total * 4;
        var logits = reuse?.Logits.Length == logitsLength ? reuse.Logits : new byte[logitsLength];
        var deltas = reuse?.Deltas.Length == deltasLength ? reuse.Deltas : new byte[deltasLength];
        int start = 0;
        for (int l = 0; l < levels.Count; l++)
        {
            CodeTensor c = levels[l], b = levels[l];
            foreach (var u in ClsConvs) c = u[l].Forward(c, ctx);
            foreach (var u in BoxConvs) b = u[l].Forward(b, ctx);
            Scatter(ClsLogits[l].Forward(c, ctx), NumClasses, logits, start, total);
            Scatter(BboxPred[l].Forward(b, ctx), 4, deltas, start, total);
            start += grids[l].Height * grids[l].Width * NumAnchors;
        }
        // Variants of a predictor share the output quantizer, hence the zero point.
        return new IntHeadCodes(logits, ClsLogits[0].OutputZeroPoint, deltas, BboxPred[0].OutputZeroPoint, n, total, NumClasses, grids,
                                imageHeight, imageWidth);
    }

    /// <summary>[N, A·C, H, W] → rows [start, start + H·W·A) of [N, total, C].</summary>
    private void Scatter(CodeTensor y, int c, byte[] output, int start, int total)
    {
        int a = NumAnchors, hw = y.Height * y.Width;
        var src = y.Data;
        for (int n = 0; n < y.Batch; n++)
            for (int ai = 0; ai < a; ai++)
                for (int ci = 0; ci < c; ci++)
                {
                    int plane = ((n * a + ai) * c + ci) * hw;
                    long dst = ((long)n * total + start + ai) * c + ci;
                    for (int p = 0; p < hw; p++) output[dst + (long)p * a * c] = src[plane + p];
                }
    }

    /// <summary>Distinct layers, position by position (class subnet, box subnet, predictors), levels within a position.</summary>
    public IEnumerable<IIntUnit> Layers =>
        ClsConvs.Concat(BoxConvs).Append(ClsLogits).Append(BboxPred).SelectMany(p => p.Distinct()).Cast<IIntUnit>();
}
