namespace Nanoq.Kernels.Integer;

/// <summary>
/// How <see cref="Requantization"/> rounds acc · M0 · 2^shift / 2^31 to an integer.
/// </summary>
public enum RequantRounding
{
    /// <summary>
    /// gemmlowp / classic TFLite (DESIGN.md §5, the default): SaturatingRoundingDoublingHighMul, then RoundingDivideByPOT —
    /// two roundings. The first rounds to a grid of 2^−right output steps, so an output within 2^−(right+1) of a rounding
    /// boundary can land one step away from the exactly rounded value. Negligible at 8 bits (right ≈ 8); at 4 bits M is
    /// large, right is 3–4, and about 2% of a conv's codes differ by one step from the fake-quant model.
    /// </summary>
    Double = 0,

    /// <summary>
    /// TFLite's <c>TFLITE_SINGLE_ROUNDING</c>: (acc · M0 + 2^(30 − shift)) &gt;&gt; (31 − shift) in int64 — one rounding, half up.
    /// Agrees with fake quantization except at exact float ties. Not the DESIGN default; opt in per layer.
    /// </summary>
    Single = 1,
}
