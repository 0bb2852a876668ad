using System.Globalization;

namespace Nanoq.Quant;

/// <summary>
/// The parameters of one affine k-bit quantizer: scale Δ, zero point z, codes q ∈ [0, 2^k − 1], and the real values
/// they stand for, x̂ = (q − z)·Δ. The representable (nudged) range is
/// <code>
///     lb' = −z·Δ,   ub' = (2^k − 1 − z)·Δ
/// </code>
/// (each a single float32 product: exactly what fake quantization returns for codes 0 and 2^k − 1), and real 0 is the
/// code z, so zero padding stays exact (DESIGN.md §5.2).
/// </summary>
public readonly record struct QParams
{
    /// <summary>
    /// The smallest scale: float32 machine epsilon, 2⁻²³ ≈ 1.19e−7 (PyTorch's observer <c>eps</c>,
    /// <c>torch.finfo(torch.float32).eps</c>). A degenerate range — all zeros, or narrower than (2^k − 1)·ε — gets
    /// Δ = ε, i.e. a minimum width of (2^k − 1)·ε around 0, so 1/Δ stays finite and the result matches PyTorch.
    /// </summary>
    public const float MinScale = 1.1920929E-07f;

    public QParams(float scale, int zeroPoint, int bits)
    {
        QuantBits.Check(bits, nameof(QParams));
        if (!(scale > 0f) || !float.IsFinite(scale))
            throw new ArgumentOutOfRangeException(nameof(scale), $"QParams: scale must be positive and finite, got {scale}.");
        int qmax = (1 << bits) - 1;
        if ((uint)zeroPoint > (uint)qmax)
            throw new ArgumentOutOfRangeException(nameof(zeroPoint), $"QParams: zero point {zeroPoint} is outside the {bits}-bit grid [0, {qmax}].");
        Scale = scale;
        ZeroPoint = zeroPoint;
        Bits = bits;
    }

    /// <summary>Δ, the real step between neighbouring codes (float32, as PyTorch stores it).</summary>
    public float Scale { get; }

    /// <summary>z, the code of real 0.</summary>
    public int ZeroPoint { get; }

    /// <summary>k.</summary>
    public int Bits { get; }

    /// <summary>2^k − 1, the largest code.</summary>
    public int QMax => (1 << Bits) - 1;

    /// <summary>lb' = −z·Δ, the real value of code 0.</summary>
    public float Lb => (float)-ZeroPoint * Scale;

    /// <summary>ub' = (2^k − 1 − z)·Δ, the real value of the largest code.</summary>
    public float Ub => (float)(QMax - ZeroPoint) * Scale;

    /// <summary>
    /// Quantizer parameters for the range [lb, ub] (eq. 4 and the zero-point alignment of DESIGN.md §5.1–2):
    /// <code>
    ///     lb ← min(lb, 0),  ub ← max(ub, 0)                     (the range contains 0)
    ///     Δ  = max((ub − lb) / (2^k − 1), ε)                    (eq. 4; ε = <see cref="MinScale"/>)
    ///     z  = clamp(round(−lb / Δ), 0, 2^k − 1)                 (round half to even)
    /// </code>
    /// Arithmetic is PyTorch 1.13's <c>UniformQuantizationObserverBase._calculate_qparams</c> (per_tensor_affine,
    /// quant_min = 0, quant_max = 2^k − 1) operation for operation in float32: <c>scale = (max_val_pos − min_val_neg) /
    /// float(quant_max − quant_min)</c>, <c>scale = max(scale, eps)</c>, <c>zero_point = quant_min −
    /// round(min_val_neg / scale)</c>, clamp. PyTorch's −round(lb/Δ) and the DESIGN's round(−lb/Δ) are the same number
    /// (IEEE division and half-to-even rounding are both symmetric in sign); only the arithmetic form differs.
    /// </summary>
    public static QParams FromRange(float lb, float ub, int bits)
    {
        QuantBits.Check(bits, nameof(FromRange));
        if (!float.IsFinite(lb) || !float.IsFinite(ub))
            throw new ArgumentException($"QParams.FromRange: the range [{lb}, {ub}] is not finite (an observer that saw no data, or NaN/∞ activations).");
        if (lb > ub)
            throw new ArgumentException($"QParams.FromRange: lower bound {lb} is above upper bound {ub}.");
        int qmax = (1 << bits) - 1;
        float minNeg = MathF.Min(lb, 0f);
        float maxPos = MathF.Max(ub, 0f);
        float scale = (maxPos - minNeg) / (float)qmax;   // float32, as torch's tensor arithmetic
        scale = MathF.Max(scale, MinScale);
        // torch.round is nearbyint: half to even, which MathF.Round does by default.
        int zeroPoint = 0 - (int)MathF.Round(minNeg / scale);
        zeroPoint = Math.Clamp(zeroPoint, 0, qmax);
        return new QParams(scale, zeroPoint, bits);
    }

    /// <summary>
    /// <see cref="FromRange"/> for an output whose consumer treats every value ≤ <paramref name="floor"/> alike (a
    /// detector's logits below the score threshold): the range's lower end is raised to one step below the floor,
    /// <code>
    ///     Δ₀ = (ub − floor) / (2^k − 1),   lb ← max(lb, floor − Δ₀)
    /// </code>
    /// so the grid's 2^k levels cover what the consumer can tell apart. The step of margin keeps the lowest code at or
    /// below the floor after zero-point nudging: with lb = floor − Δ₀, Δ = Δ₀·2^k / (2^k − 1) and the nudged
    /// lb' ≤ lb + Δ/2 = floor − Δ₀·(2^k − 2) / (2(2^k − 1)) &lt; floor for k ≥ 2, so a clamped value is still discarded.
    /// A floor outside (lb, ub) changes nothing, and so does one where the raised grid would still start above it
    /// (only when Δ sits at its ε minimum).
    /// </summary>
    public static QParams FromRangeAboveFloor(float lb, float ub, float floor, int bits)
    {
        QuantBits.Check(bits, nameof(FromRangeAboveFloor));
        if (float.IsFinite(floor) && lb < floor && floor < ub)
        {
            var raised = FromRange(MathF.Max(lb, floor - (ub - floor) / ((1 << bits) - 1)), ub, bits);
            if (raised.Lb <= floor) return raised;
        }
        return FromRange(lb, ub, bits);
    }

    /// <summary>The min/max range of <paramref name="x"/> (eq. 9–10 for a whole tensor), then <see cref="FromRange"/>.</summary>
    public static QParams FromTensor(Tensor x, int bits)
    {
        var (lo, hi) = Kernels.RangeKernels.MinMax(x.Span);
        return FromRange(lo, hi, bits);
    }

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"QParams(Δ={Scale:G9}, z={ZeroPoint}, {Bits} bits, [{Lb:G9}, {Ub:G9}])");
}
