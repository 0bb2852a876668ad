using Nanoq.Quant;

namespace Nanoq.Detection;

/// <summary>
/// The float edge out of the integer runtime: head codes back to reals for sigmoid, box decoding and NMS (DESIGN.md §5:
/// the only values that leave the integer domain),
/// <code>
///     x̂ = (q − z) · Δ          (one float32 product: the value fake quantization gives for code q)
/// </code>
/// so equal codes give bit-identical logits and deltas to the fake-quant model's.
/// </summary>
public sealed class HeadDequantizer(QParams output)
{
    public QParams QParams { get; } = output;

    public Tensor Dequantize(ReadOnlySpan<byte> codes, params int[] shape)
    {
        var t = Tensor.Empty(shape);
        if (t.Size != codes.Length) throw new ArgumentException($"HeadDequantizer: {codes.Length} codes for shape {t.Shape}.");
        var y = t.Span;
        float scale = QParams.Scale;
        int z = QParams.ZeroPoint;
        for (int i = 0; i < codes.Length; i++) y[i] = (float)(codes[i] - z) * scale;
        return t;
    }
}
