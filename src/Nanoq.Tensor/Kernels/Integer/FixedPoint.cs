using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nanoq.Kernels.Integer;

/// <summary>
/// The fixed-point arithmetic of the integer runtime (gemmlowp <c>fixedpoint/fixedpoint.h</c>, TFLite
/// <c>kernels/internal/common.h</c>), bit for bit. A real multiplier M &gt; 0 is carried as a Q31 mantissa M0 ∈ [2^30, 2^31)
/// and a power-of-two exponent: M ≈ M0 · 2^shift / 2^31 (chosen offline by <c>Nanoq.Quant.Convert.QuantizedMultiplier</c>).
/// Integer types only: the runtime never sees a float (DESIGN.md §5, a reflection test enforces it).
/// <para>
/// These primitives live in the Tensor assembly (not in <c>Nanoq.Quant.Integer</c>) because the integer kernels here
/// requantize with them and the dependency arrow points Tensor ← Quant.
/// </para>
/// </summary>
public static class FixedPoint
{
    /// <summary>
    /// <b>SaturatingRoundingDoublingHighMul</b>(a, b): the high 32 bits of the doubled 64-bit product, rounded —
    /// a·b / 2^31 to nearest, i.e. the Q31 product of two Q31 numbers (ARM's <c>vqrdmulh</c>).
    /// <code>
    ///     if a = b = −2^31:  return 2^31 − 1                        (the one overflowing case saturates)
    ///     p     = (int64) a · b
    ///     nudge = p ≥ 0 ? 2^30 : 1 − 2^30
    ///     return (int32) ((p + nudge) / 2^31)                         (C division: truncates toward zero)
    /// </code>
    /// Rounding: the nudge and the truncating division together equal ⌊(p + 2^30) / 2^31⌋, round to nearest with ties
    /// toward +∞ (−0.5 → 0, +0.5 → 1); the result is within ½ of a·b / 2^31.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int SaturatingRoundingDoublingHighMul(int a, int b)
    {
        if (a == int.MinValue && b == int.MinValue) return int.MaxValue;
        long ab = (long)a * b;
        long nudge = ab >= 0 ? 1L << 30 : 1 - (1L << 30);
        return (int)((ab + nudge) / (1L << 31));
    }

    /// <summary>
    /// <b>RoundingDivideByPOT</b>(x, e): x / 2^e rounded to nearest, ties away from zero, for 0 ≤ e ≤ 31.
    /// <code>
    ///     mask      = 2^e − 1
    ///     remainder = x &amp; mask                                    (the bits shifted out, as a non-negative number)
    ///     threshold = (mask &gt;&gt; 1) + (x &lt; 0 ? 1 : 0)
    ///     return (x &gt;&gt; e) + (remainder &gt; threshold ? 1 : 0)       (arithmetic shift: floor)
    /// </code>
    /// The floor of the shift is bumped up when the discarded fraction exceeds ½, or equals ½ and x ≥ 0 — so an
    /// exact half moves away from zero (−2.5 → −3, 2.5 → 3).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int RoundingDivideByPOT(int x, int exponent)
    {
        if ((uint)exponent > 31)
            throw new ArgumentOutOfRangeException(nameof(exponent), exponent, "RoundingDivideByPOT: exponent must be in [0, 31].");
        int mask = (int)((1L << exponent) - 1);
        int remainder = x & mask;
        int threshold = (mask >> 1) + (x < 0 ? 1 : 0);
        return (x >> exponent) + (remainder > threshold ? 1 : 0);
    }

    /// <summary>
    /// <b>MultiplyByQuantizedMultiplier</b>(x, M0, shift) ≈ x · M0 · 2^shift / 2^31 (TFLite's double-rounding form):
    /// <code>
    ///     left  = max(shift, 0),   right = max(−shift, 0)
    ///     return RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x · 2^left, M0), right)
    /// </code>
    /// Two roundings (the high multiply, then the shift), so the result is within one unit of x·M exactly (and within
    /// ½ + ½·2^−right of it). Preconditions, checked: −31 ≤ shift ≤ 30 and M0 ≥ 0. Not checked (the hot loop cannot
    /// afford it; the offline converter checks it): |x · 2^left| &lt; 2^31 — TFLite's <c>x * (1 &lt;&lt; left_shift)</c> would be
    /// signed overflow, here it wraps.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int MultiplyByQuantizedMultiplier(int x, int quantizedMultiplier, int shift)
    {
        CheckMultiplier(quantizedMultiplier, shift);
        int left = shift > 0 ? shift : 0;
        int right = shift > 0 ? 0 : -shift;
        return RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(unchecked(x * (1 << left)), quantizedMultiplier), right);
    }

    /// <summary>
    /// <b>MultiplyByQuantizedMultiplierSingleRounding</b>(x, M0, shift) (TFLite's <c>TFLITE_SINGLE_ROUNDING</c> form):
    /// <code>
    ///     total = 31 − shift                                          (1 ≤ total ≤ 62)
    ///     return (int32) ((x · M0 + 2^(total − 1)) &gt;&gt; total)             (int64, arithmetic shift)
    /// </code>
    /// x · M0 · 2^shift / 2^31 rounded once, to nearest with ties toward +∞: within ½ of exact. Same preconditions as
    /// <see cref="MultiplyByQuantizedMultiplier(int, int, int)"/>; the result must fit int32 (|x · M| &lt; 2^31).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int MultiplyByQuantizedMultiplierSingleRounding(int x, int quantizedMultiplier, int shift)
    {
        CheckMultiplier(quantizedMultiplier, shift);
        int total = 31 - shift;
        return (int)(((long)x * quantizedMultiplier + (1L << (total - 1))) >> total);
    }

    /// <summary>Throws unless M0 ≥ 0 and −31 ≤ shift ≤ 30 (the ranges the primitives are defined on).</summary>
    public static void CheckMultiplier(int quantizedMultiplier, int shift)
    {
        if (quantizedMultiplier < 0)
            throw new ArgumentOutOfRangeException(nameof(quantizedMultiplier), quantizedMultiplier, "Quantized multiplier M0 must be non-negative.");
        if (shift is < -31 or > 30)
            throw new ArgumentOutOfRangeException(nameof(shift), shift, "Quantized multiplier shift must be in [-31, 30].");
    }

    /// <summary>
    /// <see cref="SaturatingRoundingDoublingHighMul(int, int)"/> on 16 lanes with one multiplier, bit-identical to the
    /// scalar form: (a·b + 2^30) &gt;&gt; 31 in 64 bits (the scalar nudge-and-truncate equals this floor), even and odd
    /// lanes multiplied separately (<c>vpmuldq</c>), saturating the a = b = −2^31 lanes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> SaturatingRoundingDoublingHighMul(Vector512<int> a, Vector512<int> b)
    {
        var round = Vector512.Create(1L << 30);
        // vpmuldq multiplies the low (even) int32 of each 64-bit lane, sign-extended.
        var even = Avx512F.Multiply(a, b) + round;
        var odd = Avx512F.Multiply(Avx512F.ShiftRightLogical(a.AsInt64(), 32).AsInt32(),
            Avx512F.ShiftRightLogical(b.AsInt64(), 32).AsInt32()) + round;
        // even >> 31 leaves its result in the low int32 of each lane; odd's result goes to the high int32.
        var lo = Avx512F.ShiftRightArithmetic(even, 31);
        var hi = Avx512F.ShiftLeftLogical(Avx512F.ShiftRightArithmetic(odd, 31), 32);
        var r = Avx512F.BlendVariable(lo.AsInt32(), hi.AsInt32(), Vector512.Create(0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1));
        var min = Vector512.Create(int.MinValue);
        var overflow = Vector512.Equals(a, min) & Vector512.Equals(b, min);
        return Vector512.ConditionalSelect(overflow, Vector512.Create(int.MaxValue), r);
    }

    /// <summary><see cref="RoundingDivideByPOT(int, int)"/> on 16 lanes, one exponent in [0, 31], bit-identical.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> RoundingDivideByPOT(Vector512<int> x, int exponent)
    {
        var mask = Vector512.Create((int)((1L << exponent) - 1));
        return RoundingDivideByPOT(x, exponent, mask, Vector512.ShiftRightArithmetic(mask, 1));
    }

    /// <summary><see cref="RoundingDivideByPOT(Vector512{int}, int)"/> with its constants given: mask = 2^exponent − 1,
    /// half = mask &gt;&gt; 1 (built once for many vectors).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<int> RoundingDivideByPOT(Vector512<int> x, int exponent, Vector512<int> mask, Vector512<int> half) =>
        // x < 0 is −1 in a lane: subtracting it raises the threshold by one; GreaterThan's −1 adds one.
        Vector512.ShiftRightArithmetic(x, exponent) - Vector512.GreaterThan(x & mask, half - Vector512.ShiftRightArithmetic(x, 31));

    /// <summary>
    /// <see cref="RoundingDivideByPOT(Vector512{int}, int, Vector512{int}, Vector512{int})"/> + <paramref name="addend"/>:
    /// the rounding's +1 as a select of (shifted + addend + 1), which AVX-512 does as one masked add (the epilogue adds
    /// the output zero point here: one instruction fewer than compare, mask-to-vector and subtract).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<int> RoundingDivideByPOTAdd(Vector512<int> x, int exponent, Vector512<int> mask, Vector512<int> half, Vector512<int> addend)
    {
        var shifted = Vector512.ShiftRightArithmetic(x, exponent) + addend;
        // x < 0 is −1 in a lane: subtracting it raises the threshold by one.
        return Vector512.ConditionalSelect(Vector512.GreaterThan(x & mask, half - Vector512.ShiftRightArithmetic(x, 31)), shifted + Vector512<int>.One, shifted);
    }

    /// <summary>
    /// (p + 2^30) &gt;&gt; 31 of the even and the odd products a·m, as int32 lanes, for a broadcast multiplier m ≥ 0: the
    /// 16-lane <see cref="HighMul256(Vector256{int}, Vector256{int})"/> (its odd lanes are m itself, so only a's need shifting down for <c>vpmuldq</c>;
    /// and no saturation case). Logical shifts do: only bits 31…62 of each product survive the blend.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<int> HighMul512(Vector512<int> a, Vector512<int> m)
    {
        var round = Vector512.Create(1L << 30);
        var even = Avx512F.Multiply(a, m) + round;
        var odd = Avx512F.Multiply(Avx512F.ShiftRightLogical(a.AsInt64(), 32).AsInt32(), m) + round;
        // even: bits 31…62 to the low int32 (a logical shift by 31); odd: to the high int32 (a left shift by 1).
        return Avx512F.BlendVariable(Avx512F.ShiftRightLogical(even, 31).AsInt32(), Avx512F.ShiftLeftLogical(odd, 1).AsInt32(),
            Vector512.Create(0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1));
    }

    /// <summary><see cref="MultiplyByQuantizedMultiplier(int, int, int)"/> on 16 lanes with one (M0, shift), bit-identical
    /// (M0 ≥ 0 as the scalar form checks; not checked here, in the hot loop, so the one saturating case of the high
    /// multiply, both operands −2^31, cannot occur).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> MultiplyByQuantizedMultiplier(Vector512<int> x, int quantizedMultiplier, int shift)
    {
        int left = shift > 0 ? shift : 0;
        int right = shift > 0 ? 0 : -shift;
        return RoundingDivideByPOT(HighMul512(Vector512.ShiftLeft(x, left), Vector512.Create(quantizedMultiplier)), right);
    }

    /// <summary><see cref="MultiplyByQuantizedMultiplierSingleRounding(int, int, int)"/> on 16 lanes, bit-identical.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> MultiplyByQuantizedMultiplierSingleRounding(Vector512<int> x, int quantizedMultiplier, int shift)
    {
        int total = 31 - shift;
        var m = Vector512.Create(quantizedMultiplier);
        var round = Vector512.Create(1L << (total - 1));
        var even = Avx512F.Multiply(x, m) + round;
        var odd = Avx512F.Multiply(Avx512F.ShiftRightLogical(x.AsInt64(), 32).AsInt32(), m) + round;
        var lo = Vector512.ShiftRightArithmetic(even, total);
        var hi = Vector512.ShiftLeft(Vector512.ShiftRightArithmetic(odd, total), 32);
        return Avx512F.BlendVariable(lo.AsInt32(), hi.AsInt32(), Vector512.Create(0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1));
    }

    /// <summary>
    /// <see cref="MultiplyByQuantizedMultiplier(int, int, int)"/> on 16 lanes, each with its own (M0, shift) — a fully
    /// connected layer's outputs side by side — bit-identical: the left shift per lane (<c>vpsllvd</c>, wrapping like
    /// the scalar), the high multiply with lane-wise multipliers, then <see cref="RoundingDivideByPOT(int, int)"/> with
    /// lane-wise exponents (<c>vpsravd</c>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> MultiplyByQuantizedMultiplier(Vector512<int> x, Vector512<int> quantizedMultipliers, Vector512<int> shifts)
    {
        var left = Vector512.Max(shifts, Vector512<int>.Zero);
        var right = Vector512.Max(-shifts, Vector512<int>.Zero);
        var hm = SaturatingRoundingDoublingHighMul(Avx512F.ShiftLeftLogicalVariable(x, left.AsUInt32()), quantizedMultipliers);
        var mask = Avx512F.ShiftLeftLogicalVariable(Vector512<int>.One, right.AsUInt32()) - Vector512<int>.One;
        var remainder = hm & mask;
        var threshold = Vector512.ShiftRightArithmetic(mask, 1) - Vector512.ShiftRightArithmetic(hm, 31);
        return Avx512F.ShiftRightArithmeticVariable(hm, right.AsUInt32()) - Vector512.GreaterThan(remainder, threshold);
    }

    /// <summary>
    /// <see cref="MultiplyByQuantizedMultiplierSingleRounding(int, int, int)"/> on 16 lanes, each with its own
    /// (M0, shift), bit-identical: even and odd lanes multiplied into 64 bits, each rounded and shifted by its own total.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> MultiplyByQuantizedMultiplierSingleRounding(Vector512<int> x, Vector512<int> quantizedMultipliers, Vector512<int> shifts)
    {
        var total = Vector512.Create(31) - shifts;
        // The totals of the even (low) and odd (high) int32 of each 64-bit lane, as 64-bit counts.
        var totalEven = (total.AsInt64() & Vector512.Create(0xFFFFFFFFL)).AsUInt64();
        var totalOdd = Vector512.ShiftRightLogical(total.AsInt64(), 32).AsUInt64();
        var one = Vector512<long>.One;
        var even = Avx512F.Multiply(x, quantizedMultipliers)
                   + Avx512F.ShiftLeftLogicalVariable(one, totalEven - Vector512<ulong>.One);
        var odd = Avx512F.Multiply(Avx512F.ShiftRightLogical(x.AsInt64(), 32).AsInt32(), Avx512F.ShiftRightLogical(quantizedMultipliers.AsInt64(), 32).AsInt32())
                  + Avx512F.ShiftLeftLogicalVariable(one, totalOdd - Vector512<ulong>.One);
        var lo = Avx512F.ShiftRightArithmeticVariable(even, totalEven);
        var hi = Vector512.ShiftLeft(Avx512F.ShiftRightArithmeticVariable(odd, totalOdd), 32);
        return Avx512F.BlendVariable(lo.AsInt32(), hi.AsInt32(), Vector512.Create(0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1));
    }

    // ---- The same on 8 lanes (AVX2). AVX2 has no 64-bit arithmetic right shift (vpsraq): the low int32 of
    // (p >> n) for n ≤ 32 is bits n … n+31 of p, which a logical shift gives as well; a larger n goes through
    // sra(p, n) = srl(p ^ s, n) ^ s with s the sign mask of p (vpcmpgtq). Bit-identical to the scalar forms. Constant
    // vectors are literals, not static readonly fields: the kernels are compiled straight to optimized code
    // (AggressiveOptimization), where a static field is a load behind a class-initialization check, not a constant.

    /// <summary>
    /// (p + 2^30) &gt;&gt; 31 of the even and the odd products a·m, as int32 lanes, for a broadcast multiplier m ≥ 0 (its odd
    /// lanes are m itself, so only a's need shifting down for <c>vpmuldq</c>; and no saturation case).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<int> HighMul256(Vector256<int> a, Vector256<int> m) => HighMul256(a, m, m);

    /// <summary>
    /// <see cref="HighMul256(Vector256{int}, Vector256{int})"/> with lane-wise multipliers: <paramref name="m"/>'s even
    /// lanes multiply a's even lanes, <paramref name="mOdd"/>'s even lanes a's odd ones (m itself for a broadcast m, m's odd
    /// lanes shifted down for lane-wise ones).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> HighMul256(Vector256<int> a, Vector256<int> m, Vector256<int> mOdd)
    {
        var round = Vector256.Create(1L << 30);
        var even = Avx2.Multiply(a, m) + round;
        var odd = Avx2.Multiply(Avx2.ShiftRightLogical(a.AsInt64(), 32).AsInt32(), mOdd) + round;
        // even: bits 31…62 to the low int32 (a logical shift by 31); odd: to the high int32 (a left shift by 1).
        return Avx2.BlendVariable(Avx2.ShiftRightLogical(even, 31).AsInt32(), Avx2.ShiftLeftLogical(odd, 1).AsInt32(), Vector256.Create(0, -1, 0, -1, 0, -1, 0, -1));
    }

    /// <summary><see cref="RoundingDivideByPOT(int, int)"/> on 8 lanes, one exponent in [0, 31], bit-identical.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> RoundingDivideByPOT(Vector256<int> x, int exponent)
    {
        var mask = Vector256.Create((int)((1L << exponent) - 1));
        return RoundingDivideByPOT(x, exponent, mask, Vector256.ShiftRightArithmetic(mask, 1));
    }

    /// <summary><see cref="RoundingDivideByPOT(Vector256{int}, int)"/> with its constants given: mask = 2^exponent − 1,
    /// half = mask &gt;&gt; 1 (built once for many vectors: the conv epilogue, <see cref="Requantization"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<int> RoundingDivideByPOT(Vector256<int> x, int exponent, Vector256<int> mask, Vector256<int> half) =>
        // x < 0 is −1 in a lane: subtracting it raises the threshold by one; GreaterThan's −1 adds one.
        Vector256.ShiftRightArithmetic(x, exponent) - Vector256.GreaterThan(x & mask, half - Vector256.ShiftRightArithmetic(x, 31));

    /// <summary><see cref="MultiplyByQuantizedMultiplier(int, int, int)"/> on 8 lanes with one (M0 ≥ 0, shift), bit-identical.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> MultiplyByQuantizedMultiplier(Vector256<int> x, int quantizedMultiplier, int shift)
    {
        int left = shift > 0 ? shift : 0;
        int right = shift > 0 ? 0 : -shift;
        var hm = HighMul256(Vector256.ShiftLeft(x, left), Vector256.Create(quantizedMultiplier));
        return RoundingDivideByPOT(hm, right);
    }

    /// <summary>
    /// <see cref="MultiplyByQuantizedMultiplier(int, int, int)"/> on 8 lanes, each with its own (M0 ≥ 0, shift) — the
    /// AVX2 form of the 16-lane one, bit-identical: the left shift per lane (<c>vpsllvd</c>), the high multiply of even and
    /// odd lanes with their own multipliers, <see cref="RoundingDivideByPOT(int, int)"/> with lane-wise exponents
    /// (<c>vpsravd</c>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> MultiplyByQuantizedMultiplier(Vector256<int> x, Vector256<int> quantizedMultipliers, Vector256<int> shifts)
    {
        var left = Vector256.Max(shifts, Vector256<int>.Zero);
        var right = Vector256.Max(-shifts, Vector256<int>.Zero);
        var hm = HighMul256(Avx2.ShiftLeftLogicalVariable(x, left.AsUInt32()), quantizedMultipliers,
                            Avx2.ShiftRightLogical(quantizedMultipliers.AsInt64(), 32).AsInt32());
        var mask = Avx2.ShiftLeftLogicalVariable(Vector256<int>.One, right.AsUInt32()) - Vector256<int>.One;
        var threshold = Vector256.ShiftRightArithmetic(mask, 1) - Vector256.ShiftRightArithmetic(hm, 31);
        return Avx2.ShiftRightArithmeticVariable(hm, right.AsUInt32()) - Vector256.GreaterThan(hm & mask, threshold);
    }

    /// <summary>
    /// <see cref="MultiplyByQuantizedMultiplierSingleRounding(int, int, int)"/> on 8 lanes, each with its own
    /// (M0, shift), bit-identical: even and odd lanes multiplied into 64 bits, each rounded and shifted by its own total.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> MultiplyByQuantizedMultiplierSingleRounding(Vector256<int> x, Vector256<int> quantizedMultipliers, Vector256<int> shifts)
    {
        var total = Vector256.Create(31) - shifts;
        var totalEven = (total.AsInt64() & Vector256.Create(0xFFFFFFFFL)).AsUInt64();
        var totalOdd = Avx2.ShiftRightLogical(total.AsInt64(), 32).AsUInt64();
        var one = Vector256<long>.One;
        var even = Avx2.Multiply(x, quantizedMultipliers) + Avx2.ShiftLeftLogicalVariable(one, totalEven - Vector256<ulong>.One);
        var odd = Avx2.Multiply(Avx2.ShiftRightLogical(x.AsInt64(), 32).AsInt32(), Avx2.ShiftRightLogical(quantizedMultipliers.AsInt64(), 32).AsInt32())
                  + Avx2.ShiftLeftLogicalVariable(one, totalOdd - Vector256<ulong>.One);
        var lo = ShiftRightArithmetic64(even, totalEven);
        var hi = Avx2.ShiftLeftLogical(ShiftRightArithmetic64(odd, totalOdd), 32);
        return Avx2.BlendVariable(lo.AsInt32(), hi.AsInt32(), Vector256.Create(0, -1, 0, -1, 0, -1, 0, -1));
    }

    /// <summary>sra(p, n) of 64-bit lanes for any n in [0, 63] (AVX2 has only the logical shift).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<long> ShiftRightArithmetic64(Vector256<long> p, Vector256<ulong> n)
    {
        var sign = Avx2.CompareGreaterThan(Vector256<long>.Zero, p);
        return Avx2.ShiftRightLogicalVariable(p ^ sign, n) ^ sign;
    }

    /// <summary><see cref="MultiplyByQuantizedMultiplierSingleRounding(int, int, int)"/> on 8 lanes, bit-identical.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> MultiplyByQuantizedMultiplierSingleRounding(Vector256<int> x, int quantizedMultiplier, int shift)
    {
        int total = 31 - shift;
        var m = Vector256.Create(quantizedMultiplier);
        var round = Vector256.Create(1L << (total - 1));
        var n = Vector256.Create((ulong)total);
        var even = ShiftRightArithmetic64(Avx2.Multiply(x, m) + round, n);
        var odd = ShiftRightArithmetic64(Avx2.Multiply(Avx2.ShiftRightLogical(x.AsInt64(), 32).AsInt32(), m) + round, n);
        return Avx2.BlendVariable(even.AsInt32(), Avx2.ShiftLeftLogical(odd, 32).AsInt32(), Vector256.Create(0, -1, 0, -1, 0, -1, 0, -1));
    }
}
