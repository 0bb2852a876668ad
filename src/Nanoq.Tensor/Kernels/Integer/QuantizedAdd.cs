using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nanoq.Kernels.Integer;

/// <summary>
/// Quantized element-wise add (TFLite's ADD; DESIGN.md §5): both inputs are brought to a common scale with 2^L
/// head room, added, and requantized to the output:
/// <code>
///     a' = MultiplyByQuantizedMultiplier((a_q − z_a) · 2^L, M_a)
///     b' = MultiplyByQuantizedMultiplier((b_q − z_b) · 2^L, M_b)
///     y_q = clamp(z_y + MultiplyByQuantizedMultiplier(a' + b', M_y), lo, hi)
/// </code>
/// (constants: <see cref="QuantizedAddParams"/>). Shapes must be equal (residual and FPN adds); 16 lanes at a time,
/// bit-identical to <see cref="Apply"/>.
/// </summary>
public static class QuantizedAdd
{
    /// <summary>y_q of one pair of codes (the scalar reference).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Apply(int a, int b, QuantizedAddParams p)
    {
        int sa = FixedPoint.MultiplyByQuantizedMultiplier((a - p.ZeroPointA) << p.LeftShift, p.MultiplierA, p.ShiftA);
        int sb = FixedPoint.MultiplyByQuantizedMultiplier((b - p.ZeroPointB) << p.LeftShift, p.MultiplierB, p.ShiftB);
        int y = p.OutputZeroPoint + FixedPoint.MultiplyByQuantizedMultiplier(sa + sb, p.OutputMultiplier, p.OutputShift);
        return y < p.ClampMin ? p.ClampMin : y > p.ClampMax ? p.ClampMax : y;
    }

    /// <summary>Elements below which an add runs on the calling thread alone.</summary>
    private const int ParallelFrom = 1 << 16;

    /// <summary>y = a ⊕ b element by element; all three spans the same length. Long ones split over the cores (equal runs).</summary>
    public static unsafe void Forward(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, QuantizedAddParams p, Span<byte> y)
    {
        if (a.Length != b.Length || a.Length != y.Length)
            throw new ArgumentException($"QuantizedAdd: lengths {a.Length}, {b.Length} and output {y.Length} must be equal.");
        if (a.Length < ParallelFrom)
        {
            Run(a, b, p, y);
            return;
        }
        fixed (byte* pa = a)
        fixed (byte* pb = b)
        fixed (byte* py = y)
        {
            var task = new QuantizedAddTask { A = pa, B = pb, Y = py, Length = a.Length, Parts = 8, Parameters = p };
            ParallelRunner.Run(task.Parts, ref task);
        }
    }

    /// <summary>The elementwise loop: 16 lanes at a time (one 512-bit vector or two 256-bit), then the scalar <see cref="Apply"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static unsafe void Run(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, QuantizedAddParams p, Span<byte> y)
    {
        int i = 0;
        if (Simd.Is512)
        {
            ref byte ra = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(a);
            ref byte rb = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(b);
            ref byte ry = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(y);
            var za = Vector512.Create(p.ZeroPointA);
            var zb = Vector512.Create(p.ZeroPointB);
            var zy = Vector512.Create(p.OutputZeroPoint);
            var lo = Vector512.Create(p.ClampMin);
            var hi = Vector512.Create(p.ClampMax);
            for (; i + 16 <= a.Length; i += 16)
            {
                var va = Avx512F.ConvertToVector512Int32(Vector128.LoadUnsafe(ref ra, (nuint)i)) - za;
                var vb = Avx512F.ConvertToVector512Int32(Vector128.LoadUnsafe(ref rb, (nuint)i)) - zb;
                var sa = FixedPoint.MultiplyByQuantizedMultiplier(Vector512.ShiftLeft(va, p.LeftShift), p.MultiplierA, p.ShiftA);
                var sb = FixedPoint.MultiplyByQuantizedMultiplier(Vector512.ShiftLeft(vb, p.LeftShift), p.MultiplierB, p.ShiftB);
                var v = zy + FixedPoint.MultiplyByQuantizedMultiplier(sa + sb, p.OutputMultiplier, p.OutputShift);
                Avx512F.ConvertToVector128Byte(Vector512.Min(Vector512.Max(v, lo), hi)).StoreUnsafe(ref ry, (nuint)i);
            }
        }
        else if (Simd.IsVector)
            fixed (byte* pa = a)
            fixed (byte* pb = b)
            fixed (byte* py = y)
                for (; i + 16 <= a.Length; i += 16)
                    Narrow.ToBytes(Add8(pa + i, pb + i, p), Add8(pa + i + 8, pb + i + 8, p)).Store(py + i);
        for (; i < a.Length; i++) y[i] = (byte)Apply(a[i], b[i], p);
    }

    /// <summary><see cref="Apply"/> on the 8 pairs of codes at <paramref name="a"/> and <paramref name="b"/> (AVX2).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector256<int> Add8(byte* a, byte* b, QuantizedAddParams p)
    {
        var va = Avx2.ConvertToVector256Int32(a) - Vector256.Create(p.ZeroPointA);
        var vb = Avx2.ConvertToVector256Int32(b) - Vector256.Create(p.ZeroPointB);
        var sa = FixedPoint.MultiplyByQuantizedMultiplier(Vector256.ShiftLeft(va, p.LeftShift), p.MultiplierA, p.ShiftA);
        var sb = FixedPoint.MultiplyByQuantizedMultiplier(Vector256.ShiftLeft(vb, p.LeftShift), p.MultiplierB, p.ShiftB);
        var v = Vector256.Create(p.OutputZeroPoint) + FixedPoint.MultiplyByQuantizedMultiplier(sa + sb, p.OutputMultiplier, p.OutputShift);
        return Vector256.Min(Vector256.Max(v, Vector256.Create(p.ClampMin)), Vector256.Create(p.ClampMax));
    }
}
