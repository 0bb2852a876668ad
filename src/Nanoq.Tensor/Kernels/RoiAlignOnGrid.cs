namespace Nanoq.Kernels;

/// <summary>
/// The fake-quant side of the integer RoIAlign: a float RoIAlign output rounded back onto its input's grid (same Δ and
/// z), with PyTorch's fake-quantization arithmetic (DESIGN.md §5.3):
/// <code>
///   q = clamp(round(y · (1/Δ)) + z, quantMin, quantMax)      1/Δ in float32, round half to even
/// </code>
/// RoIAlign of dequantized codes x̂ = (q − z)Δ is y = Σ a_p (q_p − z)Δ with a_p ≥ 0, Σ a_p ≤ 1, so y/Δ + z is already
/// (up to float rounding) a convex combination of codes: this is the value <see cref="Integer.IntRoiAlign"/> rounds the
/// same way in fixed point, which is why the two agree code for code except near rounding boundaries.
/// </summary>
public static class RoiAlignOnGrid
{
    /// <summary>codes[i] = clamp(round(y[i] · (1/Δ)) + z, quantMin, quantMax).</summary>
    public static void RoundToGrid(ReadOnlySpan<float> y, float scale, int zeroPoint, int quantMin, int quantMax, Span<byte> codes)
    {
        if (!(scale > 0) || float.IsInfinity(scale)) throw new ArgumentException($"RoundToGrid: the step {scale} must be positive and finite.");
        if (quantMin < 0 || quantMax > 255 || quantMin > quantMax || zeroPoint < quantMin || zeroPoint > quantMax)
            throw new ArgumentException($"RoundToGrid: grid [{quantMin}, {quantMax}] with zero point {zeroPoint} is not a byte grid containing z.");
        if (codes.Length != y.Length) throw new ArgumentException($"RoundToGrid: {y.Length} values but {codes.Length} codes.");
        float inv = 1f / scale;
        for (int i = 0; i < y.Length; i++)
        {
            float r = MathF.Round(y[i] * inv) + zeroPoint;
            codes[i] = (byte)(r < quantMin ? quantMin : r > quantMax ? quantMax : r);
        }
    }

    /// <summary>The fake-quant RoIAlign: dequantize codes, run <see cref="RoiAlign.Forward"/> in float, round back onto the grid.</summary>
    public static void Forward(ReadOnlySpan<byte> codes, int n, int c, int h, int w, float scale, int zeroPoint, int quantMin, int quantMax,
        ReadOnlySpan<float> rois, int pooledH, int pooledW, float spatialScale, int samplingRatio, bool aligned, Span<byte> output)
    {
        var x = new float[codes.Length];
        for (int i = 0; i < x.Length; i++) x[i] = (codes[i] - zeroPoint) * scale;
        var y = new float[output.Length];
        RoiAlign.Forward(x, n, c, h, w, rois, pooledH, pooledW, spatialScale, samplingRatio, aligned, y);
        RoundToGrid(y, scale, zeroPoint, quantMin, quantMax, output);
    }
}
