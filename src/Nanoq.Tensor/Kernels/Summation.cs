using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Nanoq.Kernels;

/// <summary>
/// Sums of float data accumulated in double. Why: statistics over N·H·W elements (batch norm, bias gradients,
/// losses) lose digits when accumulated in float32 — the error of a float sum grows with the count, while a
/// double accumulator keeps it below float rounding for any tensor that fits in memory.
/// Each float is widened exactly (<c>Vector512.Widen</c>), so the only rounding is in the double adds.
/// Results depend only on the data and its length (never on alignment, threads or <see cref="Simd.Level"/>: blocks of
/// 16 floats go into 16 double lanes at both vector levels, folded in one written-out order).
/// </summary>
public static class Summation
{
    /// <summary>Σᵢ xᵢ, in double.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double Sum(ReadOnlySpan<float> x)
    {
        ref float px = ref MemoryMarshal.GetReference(x);
        int n = x.Length, i = 0;
        double total = 0;
        if (Simd.Is512 && n >= 16)
        {
            var a0 = Vector512<double>.Zero;
            var a1 = Vector512<double>.Zero;
            for (; i <= n - 16; i += 16)
            {
                var (lo, hi) = Vector512.Widen(Vector512.LoadUnsafe(ref px, (nuint)i));
                a0 += lo;
                a1 += hi;
            }
            total += Fold(a0 + a1);
        }
        else if (Simd.IsVector && n >= 16)
        {
            // The 512-bit loop's 16 double lanes as four 256-bit quarters: the same adds, so the same bits.
            Vector256<double> a00 = default, a01 = default, a10 = default, a11 = default;
            for (; i <= n - 16; i += 16)
            {
                var (l0, h0) = Vector256.Widen(Vector256.LoadUnsafe(ref px, (nuint)i));
                var (l1, h1) = Vector256.Widen(Vector256.LoadUnsafe(ref px, (nuint)i + 8));
                a00 += l0; a01 += h0;
                a10 += l1; a11 += h1;
            }
            total += Fold(a00 + a10, a01 + a11);
        }
        if (Vector256.IsHardwareAccelerated && i <= n - 8)
        {
            var a0 = Vector256<double>.Zero;
            var a1 = Vector256<double>.Zero;
            for (; i <= n - 8; i += 8)
            {
                var (lo, hi) = Vector256.Widen(Vector256.LoadUnsafe(ref px, (nuint)i));
                a0 += lo;
                a1 += hi;
            }
            total += Vector256.Sum(a0 + a1);
        }
        for (; i < n; i++) total += Unsafe.Add(ref px, i);
        return total;
    }

    /// <summary>
    /// Σᵢ (xᵢ − shift) and Σᵢ (xᵢ − shift)², in double. With <paramref name="shift"/> near the mean (any sample
    /// will do) the one-pass variance Σd²/n − (Σd/n)² has no catastrophic cancellation.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static (double Sum, double SumSquares) ShiftedMoments(ReadOnlySpan<float> x, double shift)
    {
        ref float px = ref MemoryMarshal.GetReference(x);
        int n = x.Length, i = 0;
        double s = 0, s2 = 0;
        if (Simd.Is512 && n >= 16)
        {
            var k = Vector512.Create(shift);
            Vector512<double> a0 = default, a1 = default, q0 = default, q1 = default;
            for (; i <= n - 16; i += 16)
            {
                var (lo, hi) = Vector512.Widen(Vector512.LoadUnsafe(ref px, (nuint)i));
                lo -= k;
                hi -= k;
                a0 += lo;
                a1 += hi;
                q0 = Vector512.FusedMultiplyAdd(lo, lo, q0);
                q1 = Vector512.FusedMultiplyAdd(hi, hi, q1);
            }
            s += Fold(a0 + a1);
            s2 += Fold(q0 + q1);
        }
        else if (Simd.IsVector && n >= 16)
        {
            var k = Vector256.Create(shift);
            Vector256<double> a00 = default, a01 = default, a10 = default, a11 = default, q00 = default, q01 = default, q10 = default, q11 = default;
            for (; i <= n - 16; i += 16)
            {
                var (l0, h0) = Vector256.Widen(Vector256.LoadUnsafe(ref px, (nuint)i));
                var (l1, h1) = Vector256.Widen(Vector256.LoadUnsafe(ref px, (nuint)i + 8));
                l0 -= k; h0 -= k; l1 -= k; h1 -= k;
                a00 += l0; a01 += h0; a10 += l1; a11 += h1;
                q00 = Vector256.FusedMultiplyAdd(l0, l0, q00);
                q01 = Vector256.FusedMultiplyAdd(h0, h0, q01);
                q10 = Vector256.FusedMultiplyAdd(l1, l1, q10);
                q11 = Vector256.FusedMultiplyAdd(h1, h1, q11);
            }
            s += Fold(a00 + a10, a01 + a11);
            s2 += Fold(q00 + q10, q01 + q11);
        }
        if (Vector256.IsHardwareAccelerated && i <= n - 8)
        {
            var k = Vector256.Create(shift);
            Vector256<double> a0 = default, a1 = default, q0 = default, q1 = default;
            for (; i <= n - 8; i += 8)
            {
                var (lo, hi) = Vector256.Widen(Vector256.LoadUnsafe(ref px, (nuint)i));
                lo -= k;
                hi -= k;
                a0 += lo;
                a1 += hi;
                q0 = Vector256.FusedMultiplyAdd(lo, lo, q0);
                q1 = Vector256.FusedMultiplyAdd(hi, hi, q1);
            }
            s += Vector256.Sum(a0 + a1);
            s2 += Vector256.Sum(q0 + q1);
        }
        for (; i < n; i++)
        {
            double d = Unsafe.Add(ref px, i) - shift;
            s += d;
            s2 += d * d;
        }
        return (s, s2);
    }

    /// <summary>Σᵢ aᵢ (bᵢ − shift), in double (a dot product when <paramref name="shift"/> is 0).</summary>
    /// <remarks>The dot half of <see cref="SumAndDot"/>: its accumulators are the dot's own, so the sum beside it changes no bit.</remarks>
    public static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b, double shift = 0)
    {
        if (a.Length != b.Length) throw new ArgumentException($"Dot: lengths {a.Length} and {b.Length} differ.");
        return SumAndDot(a, b, shift).Dot;
    }

    /// <summary>
    /// (Σᵢ aᵢ, Σᵢ aᵢ (bᵢ − shift)) in one pass, each total in its own accumulators — the sum's bit-identical to
    /// <see cref="Sum"/>(a) (test): batch norm's backward reads dy once for Σ dy and Σ dy (x − μ).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static (double Sum, double Dot) SumAndDot(ReadOnlySpan<float> a, ReadOnlySpan<float> b, double shift = 0)
    {
        if (a.Length != b.Length) throw new ArgumentException($"SumAndDot: lengths {a.Length} and {b.Length} differ.");
        ref float pa = ref MemoryMarshal.GetReference(a);
        ref float pb = ref MemoryMarshal.GetReference(b);
        int n = a.Length, i = 0;
        double sum = 0, dot = 0;
        if (Simd.Is512 && n >= 16)
        {
            var k = Vector512.Create(shift);
            Vector512<double> s0 = default, s1 = default, d0 = default, d1 = default;
            for (; i <= n - 16; i += 16)
            {
                var (alo, ahi) = Vector512.Widen(Vector512.LoadUnsafe(ref pa, (nuint)i));
                var (blo, bhi) = Vector512.Widen(Vector512.LoadUnsafe(ref pb, (nuint)i));
                s0 += alo;
                s1 += ahi;
                d0 = Vector512.FusedMultiplyAdd(alo, blo - k, d0);
                d1 = Vector512.FusedMultiplyAdd(ahi, bhi - k, d1);
            }
            sum += Fold(s0 + s1);
            dot += Fold(d0 + d1);
        }
        else if (Simd.IsVector && n >= 16)
        {
            var k = Vector256.Create(shift);
            Vector256<double> s00 = default, s01 = default, s10 = default, s11 = default, d00 = default, d01 = default, d10 = default, d11 = default;
            for (; i <= n - 16; i += 16)
            {
                var (al0, ah0) = Vector256.Widen(Vector256.LoadUnsafe(ref pa, (nuint)i));
                var (al1, ah1) = Vector256.Widen(Vector256.LoadUnsafe(ref pa, (nuint)i + 8));
                var (bl0, bh0) = Vector256.Widen(Vector256.LoadUnsafe(ref pb, (nuint)i));
                var (bl1, bh1) = Vector256.Widen(Vector256.LoadUnsafe(ref pb, (nuint)i + 8));
                s00 += al0; s01 += ah0; s10 += al1; s11 += ah1;
                d00 = Vector256.FusedMultiplyAdd(al0, bl0 - k, d00);
                d01 = Vector256.FusedMultiplyAdd(ah0, bh0 - k, d01);
                d10 = Vector256.FusedMultiplyAdd(al1, bl1 - k, d10);
                d11 = Vector256.FusedMultiplyAdd(ah1, bh1 - k, d11);
            }
            sum += Fold(s00 + s10, s01 + s11);
            dot += Fold(d00 + d10, d01 + d11);
        }
        if (Vector256.IsHardwareAccelerated && i <= n - 8)
        {
            var k = Vector256.Create(shift);
            Vector256<double> s0 = default, s1 = default, d0 = default, d1 = default;
            for (; i <= n - 8; i += 8)
            {
                var (alo, ahi) = Vector256.Widen(Vector256.LoadUnsafe(ref pa, (nuint)i));
                var (blo, bhi) = Vector256.Widen(Vector256.LoadUnsafe(ref pb, (nuint)i));
                s0 += alo;
                s1 += ahi;
                d0 = Vector256.FusedMultiplyAdd(alo, blo - k, d0);
                d1 = Vector256.FusedMultiplyAdd(ahi, bhi - k, d1);
            }
            sum += Vector256.Sum(s0 + s1);
            dot += Vector256.Sum(d0 + d1);
        }
        for (; i < n; i++)
        {
            sum += Unsafe.Add(ref pa, i);
            dot += (double)Unsafe.Add(ref pa, i) * (Unsafe.Add(ref pb, i) - shift);
        }
        return (sum, dot);
    }

    /// <summary>accᵢ += xᵢ, widening each float to double.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AccumulateInto(ReadOnlySpan<float> x, Span<double> acc)
    {
        if (acc.Length != x.Length) throw new ArgumentException($"AccumulateInto: lengths {x.Length} and {acc.Length} differ.");
        ref float px = ref MemoryMarshal.GetReference(x);
        ref double pa = ref MemoryMarshal.GetReference(acc);
        int n = x.Length, i = 0;
        if (Simd.Is512)
        {
            for (; i <= n - 16; i += 16)
            {
                var (lo, hi) = Vector512.Widen(Vector512.LoadUnsafe(ref px, (nuint)i));
                (Vector512.LoadUnsafe(ref pa, (nuint)i) + lo).StoreUnsafe(ref pa, (nuint)i);
                (Vector512.LoadUnsafe(ref pa, (nuint)(i + 8)) + hi).StoreUnsafe(ref pa, (nuint)(i + 8));
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - 8; i += 8)
            {
                var (lo, hi) = Vector256.Widen(Vector256.LoadUnsafe(ref px, (nuint)i));
                (Vector256.LoadUnsafe(ref pa, (nuint)i) + lo).StoreUnsafe(ref pa, (nuint)i);
                (Vector256.LoadUnsafe(ref pa, (nuint)(i + 4)) + hi).StoreUnsafe(ref pa, (nuint)(i + 4));
            }
        }
        for (; i < n; i++) Unsafe.Add(ref pa, i) += Unsafe.Add(ref px, i);
    }

    /// <summary>
    /// The sum of 8 double lanes in one fixed order, written out rather than left to <c>Vector512.Sum</c> (whose order is
    /// the JIT's): lanes i and i + 4 first, then <see cref="Vector256.Sum{T}"/> — the order the 256-bit form
    /// (<see cref="Fold(Vector256{double}, Vector256{double})"/>) reproduces, so both levels give the same bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double Fold(Vector512<double> v) => Vector256.Sum(v.GetLower() + v.GetUpper());

    /// <summary><see cref="Fold(Vector512{double})"/> of the 8 lanes held as lanes 0–3 and 4–7.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double Fold(Vector256<double> lanes0To3, Vector256<double> lanes4To7) => Vector256.Sum(lanes0To3 + lanes4To7);

    /// <summary>yᵢ = (float)accᵢ · scale (rounded once, from double).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Narrow(ReadOnlySpan<double> acc, double scale, Span<float> y)
    {
        if (acc.Length != y.Length) throw new ArgumentException($"Narrow: lengths {acc.Length} and {y.Length} differ.");
        for (int i = 0; i < acc.Length; i++) y[i] = (float)(acc[i] * scale);
    }
}
