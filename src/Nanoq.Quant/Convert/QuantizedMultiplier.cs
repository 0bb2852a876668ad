using System.Globalization;
using Nanoq.Kernels.Integer;

namespace Nanoq.Quant.Convert;

/// <summary>
/// A positive real multiplier M as the integer runtime carries it (offline: float allowed here, never in
/// <c>Nanoq.Quant.Integer</c>): a Q31 mantissa M0 ∈ [2^30, 2^31) and a power-of-two exponent, M ≈ M0 · 2^shift / 2^31,
/// applied by <see cref="FixedPoint.MultiplyByQuantizedMultiplier(int, int, int)"/>.
/// <para>
/// <b>Quantize</b>(M) (TFLite's <c>QuantizeMultiplier</c>): frexp splits M = q · 2^shift with q ∈ [½, 1);
/// M0 = round(q · 2^31) (half away from zero, <c>std::round</c>); if rounding reached 2^31, M0 = 2^30 and shift + 1.
/// The relative error of M0 · 2^shift / 2^31 is at most 2^−31 / q ≤ 2^−30. Outside the runtime's range: M &lt; 2^−32
/// (shift &lt; −31) becomes the zero multiplier (0, 0), as in TFLite; M ≥ 2^30 (shift &gt; 30) saturates to
/// (2^31 − 1, 30). M = 0 is (0, 0).
/// </para>
/// </summary>
public readonly record struct QuantizedMultiplier(int Multiplier, int Shift)
{
    /// <summary>(M0, shift) for <paramref name="real"/> ≥ 0, finite.</summary>
    public static QuantizedMultiplier Quantize(double real)
    {
        if (!double.IsFinite(real) || real < 0)
            throw new ArgumentOutOfRangeException(nameof(real), real, "QuantizedMultiplier: the multiplier must be finite and non-negative.");
        if (real == 0) return new QuantizedMultiplier(0, 0);
        // frexp: real = q · 2^shift, q ∈ [0.5, 1). ILogB is exact (also for subnormals), ScaleB by a power of two too.
        int shift = Math.ILogB(real) + 1;
        double q = Math.ScaleB(real, -shift);
        long m0 = (long)Math.Round(q * (1L << 31), MidpointRounding.AwayFromZero);
        if (m0 == 1L << 31)
        {
            m0 /= 2;
            shift++;
        }
        if (shift < -31) return new QuantizedMultiplier(0, 0);
        if (shift > 30) return new QuantizedMultiplier(int.MaxValue, 30);
        return new QuantizedMultiplier((int)m0, shift);
    }

    /// <summary>M0 · 2^shift / 2^31, the real number this stands for (exact in double).</summary>
    public double ToDouble() => Math.ScaleB(Multiplier, Shift - 31);

    /// <summary>
    /// The conv / FC requantization multipliers M[c] = Δ_w[c] · Δ_x / Δ_y (DESIGN.md §5), computed in double from the
    /// float32 scales.
    /// </summary>
    public static QuantizedMultiplier[] ForConv(ReadOnlySpan<float> weightScales, float inputScale, float outputScale)
    {
        var r = new QuantizedMultiplier[weightScales.Length];
        for (int c = 0; c < r.Length; c++) r[c] = Quantize((double)weightScales[c] * inputScale / outputScale);
        return r;
    }

    /// <summary>bias_q[c] = round(b[c] / (Δ_w[c] · Δ_x)) (half to even, in double), checked to fit int32.</summary>
    public static int[] QuantizeBias(ReadOnlySpan<float> bias, ReadOnlySpan<float> weightScales, float inputScale)
    {
        var r = new int[bias.Length];
        for (int c = 0; c < r.Length; c++)
        {
            double v = Math.Round(bias[c] / ((double)weightScales[weightScales.Length == 1 ? 0 : c] * inputScale));
            if (v is < int.MinValue or > int.MaxValue)
                throw new OverflowException($"QuantizedMultiplier.QuantizeBias: bias[{c}] = {bias[c]} is {v} steps of Δ_w·Δ_x, beyond int32.");
            r[c] = (int)v;
        }
        return r;
    }

    /// <summary>
    /// TFLite's ADD constants for inputs with scales Δ_a, Δ_b and output Δ_y (left shift L, default 20):
    /// twice_max = 2·max(Δ_a, Δ_b), M_a = Δ_a / twice_max, M_b = Δ_b / twice_max, M_y = twice_max / (2^L · Δ_y).
    /// </summary>
    public static QuantizedAddParams ForAdd(float scaleA, int zeroPointA, float scaleB, int zeroPointB, float outputScale,
        int outputZeroPoint, int clampMin, int clampMax, int leftShift = QuantizedAddParams.DefaultLeftShift)
    {
        double twiceMax = 2.0 * Math.Max(scaleA, scaleB);
        var a = Quantize(scaleA / twiceMax);
        var b = Quantize(scaleB / twiceMax);
        var y = Quantize(twiceMax / (Math.ScaleB(1.0, leftShift) * outputScale));
        return new QuantizedAddParams(zeroPointA, a.Multiplier, a.Shift, zeroPointB, b.Multiplier, b.Shift,
            y.Multiplier, y.Shift, outputZeroPoint, clampMin, clampMax, leftShift);
    }

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"M0={Multiplier}, shift={Shift} (≈ {ToDouble():G9})");
}
