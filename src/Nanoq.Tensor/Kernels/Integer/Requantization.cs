using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nanoq.Kernels.Integer;

/// <summary>
/// The output stage of an integer conv / FC (DESIGN.md §5, gemmlowp's output pipeline), per output channel c:
/// <code>
///     y_q = clamp(z_y + MultiplyByQuantizedMultiplier(acc, M0[c], shift[c]), lo, hi)
/// </code>
/// where acc is the int32 accumulator (bias included) and M0[c]·2^shift[c]/2^31 ≈ M[c] = Δ_w[c]·Δ_x / Δ_y. The clamp is
/// the activation: lo = 0 and hi = 2^k − 1 for none, lo = z_y for ReLU (codes below z_y are negative reals), and for
/// ReLU6 also hi = min(2^k − 1, z_y + round(6 / Δ_y)) — all chosen offline. Per-tensor requantization is the case of
/// one channel broadcast (<see cref="PerTensor"/>). <see cref="Rounding"/> picks gemmlowp's double rounding (the
/// default) or TFLite's single rounding. Immutable: the arrays are copies.
/// </summary>
public sealed class Requantization
{
    private readonly int[] _multipliers;
    private readonly int[] _shifts;

    /// <param name="multipliers">M0[c] ≥ 0 (normally in [2^30, 2^31)).</param>
    /// <param name="shifts">shift[c] ∈ [−31, 30] (positive: left).</param>
    /// <param name="outputZeroPoint">z_y ∈ [0, 255].</param>
    /// <param name="clampMin">lo ∈ [0, 255].</param>
    /// <param name="clampMax">hi ∈ [lo, 255].</param>
    /// <param name="rounding">How acc·M is rounded (<see cref="RequantRounding"/>).</param>
    public Requantization(ReadOnlySpan<int> multipliers, ReadOnlySpan<int> shifts, int outputZeroPoint, int clampMin, int clampMax,
        RequantRounding rounding = RequantRounding.Double)
    {
        if (rounding is not (RequantRounding.Double or RequantRounding.Single))
            throw new ArgumentOutOfRangeException(nameof(rounding), rounding, "Requantization: unknown rounding.");
        if (multipliers.Length != shifts.Length)
            throw new ArgumentException($"Requantization: {multipliers.Length} multipliers but {shifts.Length} shifts.");
        if (multipliers.IsEmpty) throw new ArgumentException("Requantization: at least one channel is needed.");
        for (int c = 0; c < multipliers.Length; c++) FixedPoint.CheckMultiplier(multipliers[c], shifts[c]);
        if ((uint)outputZeroPoint > 255)
            throw new ArgumentOutOfRangeException(nameof(outputZeroPoint), outputZeroPoint, "Requantization: z_y must be a code in [0, 255].");
        if ((uint)clampMin > 255 || (uint)clampMax > 255 || clampMin > clampMax)
            throw new ArgumentException($"Requantization: clamp [{clampMin}, {clampMax}] must satisfy 0 ≤ lo ≤ hi ≤ 255.");
        _multipliers = multipliers.ToArray();
        _shifts = shifts.ToArray();
        OutputZeroPoint = outputZeroPoint;
        ClampMin = clampMin;
        ClampMax = clampMax;
        Rounding = rounding;
    }

    /// <summary>One (M0, shift) for every channel.</summary>
    public static Requantization PerTensor(int multiplier, int shift, int outputZeroPoint, int clampMin, int clampMax,
        RequantRounding rounding = RequantRounding.Double) =>
        new([multiplier], [shift], outputZeroPoint, clampMin, clampMax, rounding);

    /// <summary>Number of (M0, shift) pairs: the output channels, or 1 for per-tensor.</summary>
    public int Channels => _multipliers.Length;

    public ReadOnlySpan<int> Multipliers => _multipliers;
    public ReadOnlySpan<int> Shifts => _shifts;
    public int OutputZeroPoint { get; }
    public int ClampMin { get; }
    public int ClampMax { get; }
    public RequantRounding Rounding { get; }

    /// <summary>acc · M[c] rounded as <see cref="Rounding"/> says (before z_y and the clamp).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Scale(int acc, int c) => Rounding == RequantRounding.Double
        ? FixedPoint.MultiplyByQuantizedMultiplier(acc, Multiplier(c), Shift(c))
        : FixedPoint.MultiplyByQuantizedMultiplierSingleRounding(acc, Multiplier(c), Shift(c));

    /// <summary>M0 of output channel <paramref name="c"/> (per-tensor: the one multiplier).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Multiplier(int c) => _multipliers.Length == 1 ? _multipliers[0] : _multipliers[c];

    /// <summary>shift of output channel <paramref name="c"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Shift(int c) => _shifts.Length == 1 ? _shifts[0] : _shifts[c];

    /// <summary>Throws unless this covers <paramref name="outChannels"/> channels (per-channel) or is per-tensor.</summary>
    public void CheckChannels(int outChannels, string what)
    {
        if (Channels != 1 && Channels != outChannels)
            throw new ArgumentException($"{what}: requantization has {Channels} channels but the layer has {outChannels} outputs.");
    }

    /// <summary>y_q of one accumulator of channel <paramref name="c"/> (the scalar reference of the vector epilogue).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Apply(int acc, int c)
    {
        int v = OutputZeroPoint + Scale(acc, c);
        return v < ClampMin ? ClampMin : v > ClampMax ? ClampMax : v;
    }

    /// <summary>
    /// The epilogue on 16 accumulators of channel <paramref name="c"/>: (acc + offset) requantized, clamped; offset carries
    /// the bias and the zero-point correction. Bit-identical to <see cref="Apply"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal Vector512<int> Apply(Vector512<int> acc, int offset, int c)
    {
        var a = acc + Vector512.Create(offset);
        var v = Rounding == RequantRounding.Double
            ? FixedPoint.MultiplyByQuantizedMultiplier(a, Multiplier(c), Shift(c))
            : FixedPoint.MultiplyByQuantizedMultiplierSingleRounding(a, Multiplier(c), Shift(c));
        v += Vector512.Create(OutputZeroPoint);
        return Vector512.Min(Vector512.Max(v, Vector512.Create(ClampMin)), Vector512.Create(ClampMax));
    }

    /// <summary>
    /// The epilogue on the accumulators of 16 consecutive channels c0 … c0 + 15 (offsets already added), each with its
    /// own (M0, shift) — a fully connected layer's outputs — clamped. Bit-identical to <see cref="Apply"/> lane by lane.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal Vector512<int> ApplyChannels(Vector512<int> acc, int c0)
    {
        Vector512<int> m, sh;
        if (_multipliers.Length == 1)
        {
            m = Vector512.Create(_multipliers[0]);
            sh = Vector512.Create(_shifts[0]);
        }
        else
        {
            m = Vector512.Create(new ReadOnlySpan<int>(_multipliers, c0, 16));
            sh = Vector512.Create(new ReadOnlySpan<int>(_shifts, c0, 16));
        }
        var v = Rounding == RequantRounding.Double
            ? FixedPoint.MultiplyByQuantizedMultiplier(acc, m, sh)
            : FixedPoint.MultiplyByQuantizedMultiplierSingleRounding(acc, m, sh);
        v += Vector512.Create(OutputZeroPoint);
        return Vector512.Min(Vector512.Max(v, Vector512.Create(ClampMin)), Vector512.Create(ClampMax));
    }

    /// <summary>The 8-lane (AVX2) form of <see cref="ApplyChannels(Vector512{int}, int)"/>: channels c0 … c0 + 7, each its
    /// own (M0, shift), bit-identical to <see cref="Apply(int, int)"/> lane by lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal Vector256<int> ApplyChannels(Vector256<int> acc, int c0)
    {
        Vector256<int> m, sh;
        if (_multipliers.Length == 1)
        {
            m = Vector256.Create(_multipliers[0]);
            sh = Vector256.Create(_shifts[0]);
        }
        else
        {
            m = Vector256.Create(new ReadOnlySpan<int>(_multipliers, c0, 8));
            sh = Vector256.Create(new ReadOnlySpan<int>(_shifts, c0, 8));
        }
        var v = Rounding == RequantRounding.Double
            ? FixedPoint.MultiplyByQuantizedMultiplier(acc, m, sh)
            : FixedPoint.MultiplyByQuantizedMultiplierSingleRounding(acc, m, sh);
        v += Vector256.Create(OutputZeroPoint);
        return Vector256.Min(Vector256.Max(v, Vector256.Create(ClampMin)), Vector256.Create(ClampMax));
    }

    /// <summary>The 8-lane (AVX2) form of <see cref="Apply(Vector512{int}, int, int)"/>, bit-identical.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal Vector256<int> Apply(Vector256<int> acc, int offset, int c)
    {
        var a = acc + Vector256.Create(offset);
        var v = Rounding == RequantRounding.Double
            ? FixedPoint.MultiplyByQuantizedMultiplier(a, Multiplier(c), Shift(c))
            : FixedPoint.MultiplyByQuantizedMultiplierSingleRounding(a, Multiplier(c), Shift(c));
        v += Vector256.Create(OutputZeroPoint);
        return Vector256.Min(Vector256.Max(v, Vector256.Create(ClampMin)), Vector256.Create(ClampMax));
    }

    /// <summary>
    /// codes[i] = y_q of (acc[i] + offset) for channel <paramref name="c"/>, i &lt; 16·<paramref name="vectors"/> (1–4
    /// vectors): the epilogue of a conv or FC tile row — with AVX-512 <see cref="ApplyToVector"/> and one masked store,
    /// with AVX2 two 256-bit halves at a time (<see cref="Simd.Level"/>); bit-identical to <see cref="Apply(int, int)"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal unsafe void ApplyToBytes(int* acc, int vectors, int offset, int c, byte* codes)
    {
        if (Simd.Is512)
            Avx512BW.MaskStore(codes, LaneMask.Bytes(16 * vectors), ApplyToVector(acc, vectors, offset, c));
        else if (Rounding == RequantRounding.Double)
            ApplyToBytesDouble256(acc, vectors, offset, c, codes);
        else
            for (int v = 0; v < 16 * vectors; v += 16)
                Narrow.ToBytes(Apply(Vector256.Load(acc + v), offset, c), Apply(Vector256.Load(acc + v + 8), offset, c)).Store(codes + v);
    }

    /// <summary>
    /// The codes of a whole tile row, acc[0 … 16·<paramref name="vectors"/>) + offset requantized for channel
    /// <paramref name="c"/>, in one 64-byte vector (byte i = code of acc[i]; bytes past the live vectors are
    /// unspecified; 1–4 vectors): for <see cref="ApplyToBytes"/> and for a caller that stores them itself
    /// (<see cref="IntConvTask"/>'s compress-and-store). AVX-512 only. Bit-identical to <see cref="Apply(int, int)"/>.
    /// The channel's constants are built once for the row: the JIT does not hoist the broadcasts out of a loop over
    /// <see cref="Apply(Vector512{int}, int, int)"/>, and this way a 64-output row took 0.67–0.73 of that loop's time
    /// (a scratch harness, Zen 4, 2026-12-07, about 02:05).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal unsafe Vector512<byte> ApplyToVector(int* acc, int vectors, int offset, int c) =>
        ApplyToVector(Vector512.Load(acc), vectors > 1 ? Vector512.Load(acc + 16) : default, vectors > 2 ? Vector512.Load(acc + 32) : default,
                      vectors > 3 ? Vector512.Load(acc + 48) : default, vectors, offset, c);

    /// <summary>
    /// <see cref="ApplyToVector(int*, int, int, int)"/> on accumulators in registers (a0 … a3, the first
    /// <paramref name="vectors"/> of them live): byte 16·v + i is the code of lane i of a_v.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal Vector512<byte> ApplyToVector(Vector512<int> a0, Vector512<int> a1, Vector512<int> a2, Vector512<int> a3, int vectors, int offset, int c)
    {
        Vector512<int> y0, y1 = default, y2 = default, y3 = default;
        if (Rounding == RequantRounding.Double)
        {
            int shift = Shift(c), left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
            var vo = Vector512.Create(offset);
            var m = Vector512.Create(Multiplier(c));
            var mask = Vector512.Create((int)((1L << right) - 1));
            var half = Vector512.ShiftRightArithmetic(mask, 1);
            var zy = Vector512.Create(OutputZeroPoint);
            var lo = Vector512.Create(ClampMin);
            var hi = Vector512.Create(ClampMax);
            y0 = Vector512.Min(Vector512.Max(Double512(a0 + vo, left, m, right, mask, half, zy), lo), hi);
            if (vectors > 1) y1 = Vector512.Min(Vector512.Max(Double512(a1 + vo, left, m, right, mask, half, zy), lo), hi);
            if (vectors > 2) y2 = Vector512.Min(Vector512.Max(Double512(a2 + vo, left, m, right, mask, half, zy), lo), hi);
            if (vectors > 3) y3 = Vector512.Min(Vector512.Max(Double512(a3 + vo, left, m, right, mask, half, zy), lo), hi);
        }
        else
        {
            y0 = Apply(a0, offset, c);
            if (vectors > 1) y1 = Apply(a1, offset, c);
            if (vectors > 2) y2 = Apply(a2, offset, c);
            if (vectors > 3) y3 = Apply(a3, offset, c);
        }
        // Every lane is a code in [0, 255], so the saturating packs are exact. They work within 128-bit lanes: lane L of
        // the result holds y0[4L … 4L+3], y1[4L …], y2[4L …], y3[4L …] as its four dwords; the dword permute puts y0's
        // 16 codes first, then y1's, y2's, y3's.
        var bytes = Avx512BW.PackUnsignedSaturate(Avx512BW.PackSignedSaturate(y0, y1), Avx512BW.PackSignedSaturate(y2, y3));
        return Avx512F.PermuteVar16x32(bytes.AsInt32(), Vector512.Create(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15)).AsByte();
    }

    /// <summary>
    /// MultiplyByQuantizedMultiplier(a, M0, shift) + z_y on 16 lanes with the channel's constants given (m = M0, mask and
    /// half of the right shift, zy = z_y); the left shift is skipped when it is 0 (the usual case: M &lt; 1).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Double512(Vector512<int> a, int left, Vector512<int> m, int right, Vector512<int> mask, Vector512<int> half,
        Vector512<int> zy) =>
        FixedPoint.RoundingDivideByPOTAdd(FixedPoint.HighMul512(left != 0 ? Vector512.ShiftLeft(a, left) : a, m), right, mask, half, zy);

    /// <summary>
    /// The AVX2 epilogue with gemmlowp's double rounding: <see cref="FixedPoint.MultiplyByQuantizedMultiplier(Vector256{int}, int, int)"/>'s
    /// pieces with the channel's constants built once for the row. The JIT does not hoist the broadcasts out of a loop
    /// over <see cref="Apply(Vector256{int}, int, int)"/>: that way the epilogue took 0.31–0.39 of the conv kernel's
    /// samples against 0.20–0.25 (integer RetinaNet b8, perf, 2026-12-07 01:20, load 2.3–3.4).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private unsafe void ApplyToBytesDouble256(int* acc, int vectors, int offset, int c, byte* codes)
    {
        int shift = Shift(c), left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
        var vo = Vector256.Create(offset);
        var m = Vector256.Create(Multiplier(c));
        var mask = Vector256.Create((int)((1L << right) - 1));
        var half = Vector256.ShiftRightArithmetic(mask, 1);
        var zy = Vector256.Create(OutputZeroPoint);
        var lo = Vector256.Create(ClampMin);
        var hi = Vector256.Create(ClampMax);
        for (int v = 0; v < 16 * vectors; v += 16)
        {
            var h0 = FixedPoint.HighMul256(Vector256.ShiftLeft(Vector256.Load(acc + v) + vo, left), m);
            var h1 = FixedPoint.HighMul256(Vector256.ShiftLeft(Vector256.Load(acc + v + 8) + vo, left), m);
            var y0 = FixedPoint.RoundingDivideByPOT(h0, right, mask, half) + zy;
            var y1 = FixedPoint.RoundingDivideByPOT(h1, right, mask, half) + zy;
            Narrow.ToBytes(Vector256.Min(Vector256.Max(y0, lo), hi), Vector256.Min(Vector256.Max(y1, lo), hi)).Store(codes + v);
        }
    }
}
