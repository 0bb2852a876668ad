using System.Text;
using Nanoq.Kernels.Integer;

namespace Nanoq.Quant.Integer;

/// <summary>
/// The steps of one <see cref="FixedPoint.MultiplyByQuantizedMultiplier(int, int, int)"/>, for audit and teaching:
/// <code>
///     shifted   = x · 2^left                                      left = max(shift, 0)
///     product   = shifted · M0                                     (int64)
///     nudge     = product ≥ 0 ? 2^30 : 1 − 2^30
///     high      = (product + nudge) / 2^31   (truncating)          SaturatingRoundingDoublingHighMul
///     mask      = 2^right − 1,  remainder = high &amp; mask,  threshold = mask/2 + (high &lt; 0)
///     result    = (high &gt;&gt; right) + (remainder &gt; threshold)          RoundingDivideByPOT, right = max(−shift, 0)
/// </code>
/// or, for <see cref="RequantRounding.Single"/>, one rounding: result = (x · M0 + 2^(total − 1)) &gt;&gt; total, total = 31 − shift
/// (then <see cref="Product"/> is x·M0, <see cref="Nudge"/> the rounding term and <see cref="RightShift"/> the total shift).
/// <see cref="Of"/> recomputes every step independently and checks the result against the runtime primitive.
/// </summary>
public sealed record FixedPointTrace(
    int Input, int Multiplier, int Shift, int LeftShift, int RightShift, int Shifted, long Product, long Nudge, bool Saturated,
    int High, int Mask, int Remainder, int Threshold, int Floor, int RoundUp, int Result,
    RequantRounding Rounding = RequantRounding.Double)
{
    public static FixedPointTrace Of(int x, int multiplier, int shift, RequantRounding rounding = RequantRounding.Double)
    {
        FixedPoint.CheckMultiplier(multiplier, shift);
        if (rounding == RequantRounding.Single)
        {
            int total = 31 - shift;
            long p = (long)x * multiplier, r = 1L << (total - 1);
            int single = (int)((p + r) >> total);
            int rt = FixedPoint.MultiplyByQuantizedMultiplierSingleRounding(x, multiplier, shift);
            if (rt != single)
                throw new InvalidOperationException($"FixedPointTrace: the trace gives {single} but the runtime gives {rt} for ({x}, {multiplier}, {shift}).");
            return new FixedPointTrace(x, multiplier, shift, 0, total, x, p, r, false, single, 0, 0, 0, single, 0, single, rounding);
        }
        int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
        int shifted = unchecked(x * (1 << left));
        long product = (long)shifted * multiplier;
        long nudge = product >= 0 ? 1L << 30 : 1 - (1L << 30);
        bool saturated = shifted == int.MinValue && multiplier == int.MinValue;
        int high = saturated ? int.MaxValue : (int)((product + nudge) / (1L << 31));
        int mask = (int)((1L << right) - 1);
        int remainder = high & mask;
        int threshold = (mask >> 1) + (high < 0 ? 1 : 0);
        int floor = high >> right;
        int roundUp = remainder > threshold ? 1 : 0;
        int result = floor + roundUp;
        int runtime = FixedPoint.MultiplyByQuantizedMultiplier(x, multiplier, shift);
        if (runtime != result)
            throw new InvalidOperationException($"FixedPointTrace: the trace gives {result} but the runtime gives {runtime} for ({x}, {multiplier}, {shift}).");
        return new FixedPointTrace(x, multiplier, shift, left, right, shifted, product, nudge, saturated, high, mask, remainder,
            threshold, floor, roundUp, result);
    }

    public override string ToString()
    {
        var s = new StringBuilder();
        if (Rounding == RequantRounding.Single)
        {
            s.Append($"  MultiplyByQuantizedMultiplier, single rounding ({Input}, M0 = {Multiplier}, shift = {Shift})\n");
            s.Append($"    (x · M0 + 2^{RightShift - 1}) >> {RightShift} = ({Product} + {Nudge}) >> {RightShift} = {Result}\n");
            return s.ToString();
        }
        s.Append($"  MultiplyByQuantizedMultiplier({Input}, M0 = {Multiplier}, shift = {Shift})   [≈ x · M0 · 2^shift / 2^31]\n");
        s.Append($"    x · 2^{LeftShift} = {Shifted}\n");
        s.Append($"    SaturatingRoundingDoublingHighMul: p = {Shifted} · {Multiplier} = {Product}; ");
        s.Append(Saturated ? "both −2^31: saturates to 2^31 − 1\n" : $"(p + {Nudge}) / 2^31, truncated = {High}\n");
        s.Append($"    RoundingDivideByPOT({High}, {RightShift}): floor = {Floor}, remainder = {Remainder} vs threshold {Threshold}");
        s.Append($" → +{RoundUp} = {Result}\n");
        return s.ToString();
    }
}
