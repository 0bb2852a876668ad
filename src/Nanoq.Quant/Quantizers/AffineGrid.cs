namespace Nanoq.Quant.Quantizers;

/// <summary>
/// Δ and z of an affine quantizer as buffers <c>scale</c> and <c>zero_point</c> ([C], one entry per channel or one per
/// tensor; z stored as float, exact for k ≤ 8) — PyTorch's names. Shared by the quantizers whose grid is affine.
/// </summary>
internal static class AffineGrid
{
    public static void Store(Tensor scale, Tensor zeroPoint, QParams q)
    {
        scale.Span.Fill(q.Scale);
        zeroPoint.Span.Fill(q.ZeroPoint);
    }

    public static void Store(Tensor scale, Tensor zeroPoint, ChannelQParams q)
    {
        if (q.Channels != scale.Size)
            throw new ArgumentException($"AffineGrid: {q.Channels} channel grids for a quantizer of {scale.Size} channels.");
        for (int c = 0; c < q.Channels; c++)
        {
            scale.Span[c] = q.Scales[c];
            zeroPoint.Span[c] = q.ZeroPoints[c];
        }
    }

    public static QParams PerTensor(Tensor scale, Tensor zeroPoint, int bits) => new(scale.Span[0], (int)zeroPoint.Span[0], bits);

    public static ChannelQParams PerChannel(Tensor scale, Tensor zeroPoint, int bits, int axis)
    {
        var z = new int[zeroPoint.Size];
        for (int c = 0; c < z.Length; c++) z[c] = (int)zeroPoint.Span[c];
        return new ChannelQParams(scale.Span, z, bits, axis);
    }
}
