namespace Nanoq.Kernels.Integer;

/// <summary>
/// The integer constants of a quantized element-wise add (TFLite's ADD, chosen offline from Δ_a, Δ_b, Δ_y):
/// <code>
///     L = 20 (left shift: head room so the rescaled operands keep 20 fractional bits)
///     twice_max = 2 · max(Δ_a, Δ_b)
///     M_a = Δ_a / twice_max,  M_b = Δ_b / twice_max        (≤ ½: shifts ≤ −1)
///     M_y = twice_max / (2^L · Δ_y)
/// </code>
/// each real multiplier as (M0, shift) (<c>Nanoq.Quant.Convert.QuantizedMultiplier</c>). The clamp [lo, hi] carries
/// a fused ReLU (lo = z_y) or ReLU6 as for the conv.
/// </summary>
public sealed record QuantizedAddParams
{
    /// <summary>TFLite's left shift for 8-bit inputs.</summary>
    public const int DefaultLeftShift = 20;

    public QuantizedAddParams(int zeroPointA, int multiplierA, int shiftA, int zeroPointB, int multiplierB, int shiftB,
        int outputMultiplier, int outputShift, int outputZeroPoint, int clampMin, int clampMax, int leftShift = DefaultLeftShift)
    {
        if ((uint)zeroPointA > 255 || (uint)zeroPointB > 255 || (uint)outputZeroPoint > 255)
            throw new ArgumentOutOfRangeException(nameof(zeroPointA), $"QuantizedAdd: zero points {zeroPointA}, {zeroPointB}, {outputZeroPoint} must be codes in [0, 255].");
        if ((uint)clampMin > 255 || (uint)clampMax > 255 || clampMin > clampMax)
            throw new ArgumentException($"QuantizedAdd: clamp [{clampMin}, {clampMax}] must satisfy 0 ≤ lo ≤ hi ≤ 255.");
        FixedPoint.CheckMultiplier(multiplierA, shiftA);
        FixedPoint.CheckMultiplier(multiplierB, shiftB);
        FixedPoint.CheckMultiplier(outputMultiplier, outputShift);
        if (leftShift is < 0 or > 22)
            throw new ArgumentOutOfRangeException(nameof(leftShift), leftShift, "QuantizedAdd: left shift must be in [0, 22] (255·2^L·2^shift < 2^31).");
        // |a − z_a| ≤ 255, then · 2^L and · 2^max(shift, 0) must stay inside int32.
        if (leftShift + (shiftA > 0 ? shiftA : 0) > 22 || leftShift + (shiftB > 0 ? shiftB : 0) > 22)
            throw new ArgumentException($"QuantizedAdd: left shift {leftShift} with input shifts {shiftA}, {shiftB} would overflow int32.");
        ZeroPointA = zeroPointA;
        MultiplierA = multiplierA;
        ShiftA = shiftA;
        ZeroPointB = zeroPointB;
        MultiplierB = multiplierB;
        ShiftB = shiftB;
        OutputMultiplier = outputMultiplier;
        OutputShift = outputShift;
        OutputZeroPoint = outputZeroPoint;
        ClampMin = clampMin;
        ClampMax = clampMax;
        LeftShift = leftShift;
    }

    public int ZeroPointA { get; }
    public int MultiplierA { get; }
    public int ShiftA { get; }
    public int ZeroPointB { get; }
    public int MultiplierB { get; }
    public int ShiftB { get; }
    public int OutputMultiplier { get; }
    public int OutputShift { get; }
    public int OutputZeroPoint { get; }
    public int ClampMin { get; }
    public int ClampMax { get; }
    public int LeftShift { get; }
}
