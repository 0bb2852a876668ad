namespace Nanoq.Quant.Convert;

/// <summary>
/// The integer codes of folded weights under their quantizer's parameters — exactly the codes the fake-quant forward
/// uses (same kernel, <see cref="Kernels.FakeQuantKernels.Quantize"/>), so the integer conv multiplies the very
/// weights the fine-tuned model was evaluated with:
/// <code>
///     w_q[c, …] = clamp(round(W_fold[c, …] · (1/Δ_w[c])) + z_w[c], 0, 2^k − 1)      (eq. 9–10 ranges, per channel c)
/// </code>
/// </summary>
public static class WeightCodes
{
    /// <summary>Per output channel (axis 0 of [C_out, …]).</summary>
    public static byte[] Quantize(Tensor weight, ChannelQParams q)
    {
        if (q.Axis != 0) throw new ArgumentException($"WeightCodes: per-channel parameters on axis {q.Axis}; conv weights use axis 0.");
        int cout = weight.Shape[0];
        if (q.Channels != cout) throw new ArgumentException($"WeightCodes: {q.Channels} channel parameters for {cout} output channels.");
        int inner = weight.Size / cout;
        var codes = new byte[weight.Size];
        var w = weight.Span;
        for (int c = 0; c < cout; c++)
            Kernels.FakeQuantKernels.Quantize(w.Slice(c * inner, inner), q.Scales[c], q.ZeroPoints[c], q.QMax, codes.AsSpan(c * inner, inner));
        return codes;
    }

    /// <summary>Per tensor (the ablation without C): one (Δ, z) for all channels.</summary>
    public static byte[] Quantize(Tensor weight, QParams q)
    {
        var codes = new byte[weight.Size];
        Kernels.FakeQuantKernels.Quantize(weight.Span, q.Scale, q.ZeroPoint, q.QMax, codes);
        return codes;
    }
}
