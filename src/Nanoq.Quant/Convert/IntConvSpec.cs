using Nanoq.Nn.Taps;

namespace Nanoq.Quant.Convert;

/// <summary>
/// One conv unit converted for the integer runtime (offline; the reals are kept for inspection and audits, the runtime
/// reads only the integers). For output channel c, with K = (C_in / groups)·KH·KW terms:
/// <code>
///     acc   = bias_q[c] + Σ_K (w_q − z_w[c]) · (x_q − z_x)                       int32
///     y_q   = clamp(z_y + MultiplyByQuantizedMultiplier(acc, M0[c], shift[c]), lo, hi)
///     bias_q[c] = round(b_fold[c] / (Δ_w[c]·Δ_x)),   M[c] = Δ_w[c]·Δ_x / Δ_y ≈ M0[c]·2^shift[c] / 2^31
/// </code>
/// Weights <see cref="WeightCodes"/> are [C_out, C_in / groups, KH, KW], one code a byte. Square kernel, stride,
/// padding and dilation (as <see cref="Nn.Layers.Conv2d"/>). Per-tensor weight quantization is stored as per-channel
/// arrays whose entries are equal.
/// </summary>
public sealed record IntConvSpec(
    string Name,
    int InChannels, int OutChannels, int Kernel, int Stride, int Padding, int Dilation, int Groups,
    int WeightBits, byte[] WeightCodes, int[] WeightZeroPoints, float[] WeightScales,
    int[] Bias, int[] Multipliers, int[] Shifts,
    QParams Input, QParams Output, ActivationKind Activation, int ClampMin, int ClampMax)
{
    /// <summary>K, the terms of one output's dot product.</summary>
    public int PatchSize => InChannels / Groups * Kernel * Kernel;
}
