using Nanoq.Nn.Taps;

namespace Nanoq.Quant.Convert;

/// <summary>
/// A layer's activation as the clamp of its requantization (DESIGN.md §5, gemmlowp's output stage): on codes of the
/// output quantizer (Δ_y, z_y), real 0 is the code z_y, so
/// <code>
///     none:   [lo, hi] = [0, 2^k − 1]
///     ReLU:   [lo, hi] = [z_y, 2^k − 1]                                   (codes below z_y are negative reals)
///     ReLU6:  [lo, hi] = [z_y, min(2^k − 1, z_y + round(6 / Δ_y))]          (round half to even, in double)
/// </code>
/// Why this equals the fake-quant model's act-then-quantize: quantization is monotone and maps 0 to z_y exactly, so
/// q(max(v, 0)) = max(q(v), z_y); for ReLU6, q(min(v, 6)) = min(q(v), q(6)) with q(6) = z_y + round(6/Δ_y) up to the
/// float32 rounding of 6·(1/Δ_y) — a one-step difference only when 6/Δ_y lies within float rounding of a half.
/// </summary>
public static class ActivationClamp
{
    public static (int Lo, int Hi) For(ActivationKind activation, QParams output)
    {
        int qmax = output.QMax, z = output.ZeroPoint;
        return activation switch
        {
            ActivationKind.None => (0, qmax),
            ActivationKind.Relu => (z, qmax),
            ActivationKind.Relu6 => (z, (int)Math.Min(qmax, z + Math.Round(6.0 / output.Scale, MidpointRounding.ToEven))),
            _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, "ActivationClamp: unknown activation."),
        };
    }
}
