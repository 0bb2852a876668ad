using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Nanoq.Kernels;

/// <summary>
/// The one SIMD driver of the hand-written elementwise kernels (the shape of dotnet/runtime's
/// TensorPrimitives): an operator struct says what to do to one lane, a 256-bit vector and a 512-bit vector;
/// the driver runs <c>Vector512</c> over the bulk, one <c>Vector256</c> step for a remaining 8..15, and a scalar
/// tail. Operator structs are generic arguments, so the JIT specializes and inlines each one.
/// Outputs may alias an input exactly (each lane is read before it is written), never partially.
/// </summary>
internal static class SimdMap
{
    public interface IUnary
    {
        float Invoke(float x);
        Vector256<float> Invoke(Vector256<float> x);
        Vector512<float> Invoke(Vector512<float> x);
    }

    public interface IBinary
    {
        float Invoke(float a, float b);
        Vector256<float> Invoke(Vector256<float> a, Vector256<float> b);
        Vector512<float> Invoke(Vector512<float> a, Vector512<float> b);
    }

    /// <summary>yᵢ = op(xᵢ); long spans are cut between the kernel threads (<see cref="ElementwiseSplit"/>).</summary>
    public static unsafe void Map<TOp>(TOp op, ReadOnlySpan<float> x, Span<float> y) where TOp : struct, IUnary
    {
        if (y.Length != x.Length) throw new ArgumentException($"Lengths {x.Length} and {y.Length} differ.");
        fixed (float* px = x)
        fixed (float* py = y)
        {
            var body = new UnaryRange<TOp> { Op = op, X = px, Y = py };
            ElementwiseSplit.Run(x.Length, ref body);
        }
    }

    /// <summary>yᵢ = op(aᵢ, bᵢ); long spans are cut between the kernel threads.</summary>
    public static unsafe void Map<TOp>(TOp op, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) where TOp : struct, IBinary
    {
        if (a.Length != b.Length || y.Length != a.Length)
            throw new ArgumentException($"Lengths {a.Length}, {b.Length} and {y.Length} differ.");
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* py = y)
        {
            var body = new BinaryRange<TOp> { Op = op, A = pa, B = pb, Y = py };
            ElementwiseSplit.Run(a.Length, ref body);
        }
    }

    private unsafe struct UnaryRange<TOp> : ElementwiseSplit.IRange where TOp : struct, IUnary
    {
        public TOp Op;
        public float* X, Y;

        public readonly void Run(int start, int length) =>
            MapRange(Op, new ReadOnlySpan<float>(X + start, length), new Span<float>(Y + start, length));
    }

    private unsafe struct BinaryRange<TOp> : ElementwiseSplit.IRange where TOp : struct, IBinary
    {
        public TOp Op;
        public float* A, B, Y;

        public readonly void Run(int start, int length) =>
            MapRange(Op, new ReadOnlySpan<float>(A + start, length), new ReadOnlySpan<float>(B + start, length),
                new Span<float>(Y + start, length));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MapRange<TOp>(TOp op, ReadOnlySpan<float> x, Span<float> y) where TOp : struct, IUnary
    {
        ref float px = ref MemoryMarshal.GetReference(x);
        ref float py = ref MemoryMarshal.GetReference(y);
        int n = x.Length, i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i <= n - 16; i += 16)
                op.Invoke(Vector512.LoadUnsafe(ref px, (nuint)i)).StoreUnsafe(ref py, (nuint)i);
        if (Vector256.IsHardwareAccelerated)
            for (; i <= n - 8; i += 8)
                op.Invoke(Vector256.LoadUnsafe(ref px, (nuint)i)).StoreUnsafe(ref py, (nuint)i);
        for (; i < n; i++) Unsafe.Add(ref py, i) = op.Invoke(Unsafe.Add(ref px, i));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MapRange<TOp>(TOp op, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) where TOp : struct, IBinary
    {
        ref float pa = ref MemoryMarshal.GetReference(a);
        ref float pb = ref MemoryMarshal.GetReference(b);
        ref float py = ref MemoryMarshal.GetReference(y);
        int n = a.Length, i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i <= n - 16; i += 16)
                op.Invoke(Vector512.LoadUnsafe(ref pa, (nuint)i), Vector512.LoadUnsafe(ref pb, (nuint)i)).StoreUnsafe(ref py, (nuint)i);
        if (Vector256.IsHardwareAccelerated)
            for (; i <= n - 8; i += 8)
                op.Invoke(Vector256.LoadUnsafe(ref pa, (nuint)i), Vector256.LoadUnsafe(ref pb, (nuint)i)).StoreUnsafe(ref py, (nuint)i);
        for (; i < n; i++) Unsafe.Add(ref py, i) = op.Invoke(Unsafe.Add(ref pa, i), Unsafe.Add(ref pb, i));
    }
}
