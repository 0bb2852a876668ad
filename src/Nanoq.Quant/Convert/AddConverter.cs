using Nanoq.Kernels.Integer;
using Nanoq.Nn.Taps;

namespace Nanoq.Quant.Convert;

/// <summary>
/// An <see cref="AddUnit"/> (y = act(a + b), then its output quantizer) as TFLite's quantized ADD: both operands on their
/// producers' grids (Δ_a, z_a), (Δ_b, z_b), the sum on the output's (Δ_y, z_y):
/// <code>
///     L = 20,  twice_max = 2·max(Δ_a, Δ_b)
///     M_a = Δ_a / twice_max,  M_b = Δ_b / twice_max,  M_y = twice_max / (2^L · Δ_y)     (each as Q31 M0 and shift)
///     y_q = clamp(z_y + M_y·(M_a·(a_q − z_a)·2^L + M_b·(b_q − z_b)·2^L), lo, hi)
/// </code>
/// with the activation as the clamp (<see cref="ActivationClamp"/>). Why L = 20: the operands are at most 2^8 codes
/// apart, so 2^20 leaves 11 bits of head room in int32 while the rescaled operands keep about 20 fractional bits —
/// far below the output's half step, so the add agrees with the fake-quant float add up to ties.
/// </summary>
public static class AddConverter
{
    public static QuantizedAddParams Convert(QParams a, QParams b, QParams output, ActivationKind activation)
    {
        var (lo, hi) = ActivationClamp.For(activation, output);
        return QuantizedMultiplier.ForAdd(a.Scale, a.ZeroPoint, b.Scale, b.ZeroPoint, output.Scale, output.ZeroPoint, lo, hi);
    }
}
