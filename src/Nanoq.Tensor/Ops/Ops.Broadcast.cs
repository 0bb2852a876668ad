using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace Nanoq;

/// <summary>
/// Tensor-level operations. Every method returns a NEW tensor drawn from <see cref="TensorPool"/> (dispose it to
/// recycle the buffer) unless its name ends in InPlace. Shape errors name both shapes.
/// </summary>
public static partial class Ops
{
    /// <summary>
    /// NumPy broadcasting: align shapes at the right; each pair of dimensions must be equal or one of them 1
    /// (a missing leading dimension counts as 1); the result takes the larger. (0 with 1 gives 0.)
    /// </summary>
    public static Shape BroadcastShape(Shape a, Shape b) => BroadcastShape(a, b, nameof(BroadcastShape));

    internal static Shape BroadcastShape(Shape a, Shape b, string op)
    {
        if (a == b) return a;
        int r = Math.Max(a.Rank, b.Rank);
        var dims = new int[r];
        for (int i = 0; i < r; i++)
        {
            int ia = i - (r - a.Rank), ib = i - (r - b.Rank);
            int da = ia >= 0 ? a.Dims[ia] : 1, db = ib >= 0 ? b.Dims[ib] : 1;
            if (da != db && da != 1 && db != 1)
                throw new ArgumentException($"{op}: shapes {a} and {b} cannot be broadcast together (dimension {da} vs {db} at axis {i - r}).");
            dims[i] = da == 1 ? db : da;
        }
        return new Shape(dims);
    }

    // ---- the broadcasting driver --------------------------------------------------------------------------
    //
    // Each operand gets a stride per output axis (0 where it is broadcast). Axes of size 1 are dropped and
    // neighbouring axes merge when both operands are contiguous across them, so [N, C, H, W] + [1, C, 1, 1]
    // becomes [N, C, HW] with b-strides [0, 1, 0]: the innermost run (HW) is a span-scalar op, looped over N·C.
    // Same-shape, scalar, row ([N, C] + [C]) and channel broadcasts all reduce to a handful of long runs.

    /// <summary>A binary kernel over runs: span ⊕ span, span ⊕ scalar, scalar ⊕ span.</summary>
    private interface IBinaryKernel
    {
        static abstract void Run(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y);
        static abstract void Run(ReadOnlySpan<float> a, float b, Span<float> y);
        static abstract void Run(float a, ReadOnlySpan<float> b, Span<float> y);
    }

    private readonly struct AddKernel : IBinaryKernel
    {
        public static void Run(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Add(a, b, y);
        public static void Run(ReadOnlySpan<float> a, float b, Span<float> y) => TensorPrimitives.Add(a, b, y);
        public static void Run(float a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Add(b, a, y);
    }

    private readonly struct SubKernel : IBinaryKernel
    {
        public static void Run(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Subtract(a, b, y);
        public static void Run(ReadOnlySpan<float> a, float b, Span<float> y) => TensorPrimitives.Subtract(a, b, y);
        public static void Run(float a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Subtract(a, b, y);
    }

    private readonly struct MulKernel : IBinaryKernel
    {
        public static void Run(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Multiply(a, b, y);
        public static void Run(ReadOnlySpan<float> a, float b, Span<float> y) => TensorPrimitives.Multiply(a, b, y);
        public static void Run(float a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Multiply(b, a, y);
    }

    private readonly struct DivKernel : IBinaryKernel
    {
        public static void Run(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Divide(a, b, y);
        public static void Run(ReadOnlySpan<float> a, float b, Span<float> y) => TensorPrimitives.Divide(a, b, y);
        public static void Run(float a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Divide(a, b, y);
    }

    /// <summary>IEEE 754-2019 maximum: NaN propagates (as torch.maximum).</summary>
    private readonly struct MaxKernel : IBinaryKernel
    {
        public static void Run(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Max(a, b, y);
        public static void Run(ReadOnlySpan<float> a, float b, Span<float> y) => TensorPrimitives.Max(a, b, y);
        public static void Run(float a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Max(b, a, y);
    }

    private readonly struct MinKernel : IBinaryKernel
    {
        public static void Run(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Min(a, b, y);
        public static void Run(ReadOnlySpan<float> a, float b, Span<float> y) => TensorPrimitives.Min(a, b, y);
        public static void Run(float a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Min(b, a, y);
    }

    private static Tensor Binary<TK>(Tensor a, Tensor b, string op) where TK : struct, IBinaryKernel
    {
        var shape = BroadcastShape(a.Shape, b.Shape, op);
        var y = Tensor.Empty(shape);
        BinaryInto<TK>(a, b, y);
        return y;
    }

    /// <summary>y = a ⊕ b over equal lengths, long spans cut between the kernel threads (a residual add, a gradient sum).</summary>
    private static unsafe void SameShape<TK>(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) where TK : struct, IBinaryKernel
    {
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* py = y)
        {
            var body = new SameShapeRange<TK> { A = pa, B = pb, Y = py };
            Kernels.ElementwiseSplit.Run(y.Length, ref body);
        }
    }

    private unsafe struct SameShapeRange<TK> : Kernels.ElementwiseSplit.IRange where TK : struct, IBinaryKernel
    {
        public float* A, B, Y;

        public readonly void Run(int start, int length) =>
            TK.Run(new ReadOnlySpan<float>(A + start, length), new ReadOnlySpan<float>(B + start, length), new Span<float>(Y + start, length));
    }

    /// <summary>y = a ⊕ b with a and b broadcast to y's shape (y may be a itself: runs then overlap exactly).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BinaryInto<TK>(Tensor a, Tensor b, Tensor y) where TK : struct, IBinaryKernel
    {
        if (y.Size == 0) return;
        var ys = y.Span;
        ReadOnlySpan<float> asp = a.Span, bsp = b.Span;
        if (a.Size == y.Size && b.Size == y.Size) { SameShape<TK>(asp, bsp, ys); return; }
        if (b.Size == 1 && a.Size == y.Size) { TK.Run(asp, bsp[0], ys); return; }    // tensor ⊕ scalar
        if (a.Size == 1 && b.Size == y.Size) { TK.Run(asp[0], bsp, ys); return; }    // scalar ⊕ tensor

        int r = y.Rank;
        Span<int> dims = stackalloc int[r];
        Span<int> sa = stackalloc int[r];
        Span<int> sb = stackalloc int[r];
        int k = Plan(y.Shape, a.Shape, b.Shape, dims, sa, sb);
        if (k == 0) { TK.Run(asp, bsp, ys); return; }

        int inner = dims[k - 1];
        int ia = sa[k - 1], ib = sb[k - 1];
        int outerCount = y.Size / inner;
        Span<int> idx = stackalloc int[k];
        idx.Clear();
        int offA = 0, offB = 0, offY = 0;
        for (int it = 0; it < outerCount; it++)
        {
            var yr = ys.Slice(offY, inner);
            if (ia != 0 && ib != 0) TK.Run(asp.Slice(offA, inner), bsp.Slice(offB, inner), yr);
            else if (ia != 0) TK.Run(asp.Slice(offA, inner), bsp[offB], yr);
            else TK.Run(asp[offA], bsp.Slice(offB, inner), yr);
            offY += inner;
            for (int ax = k - 2; ax >= 0; ax--)
            {
                offA += sa[ax];
                offB += sb[ax];
                if (++idx[ax] < dims[ax]) break;
                offA -= sa[ax] * dims[ax];
                offB -= sb[ax] * dims[ax];
                idx[ax] = 0;
            }
        }
    }

    /// <summary>
    /// Strides of a and b over the output axes (0 where broadcast), with size-1 axes dropped and mergeable
    /// neighbours merged. Returns the number of axes left; the innermost has strides 0 or 1.
    /// </summary>
    private static int Plan(Shape y, Shape a, Shape b, Span<int> dims, Span<int> sa, Span<int> sb)
    {
        int r = y.Rank, k = 0;
        int strideA = 1, strideB = 1;
        // Walk from the innermost axis out, so the contiguous strides of a and b build up as we go.
        Span<int> tmpD = stackalloc int[r], tmpA = stackalloc int[r], tmpB = stackalloc int[r];
        for (int i = r - 1; i >= 0; i--)
        {
            int d = y.Dims[i];
            int ja = i - (r - a.Rank), jb = i - (r - b.Rank);
            int da = ja >= 0 ? a.Dims[ja] : 1, db = jb >= 0 ? b.Dims[jb] : 1;
            int s1 = da == 1 ? 0 : strideA, s2 = db == 1 ? 0 : strideB;
            strideA *= da;
            strideB *= db;
            if (d == 1) continue;
            if (k > 0 && tmpA[k - 1] * tmpD[k - 1] == s1 && tmpB[k - 1] * tmpD[k - 1] == s2)
            {
                tmpD[k - 1] *= d; // merge into the inner neighbour
                continue;
            }
            tmpD[k] = d;
            tmpA[k] = s1;
            tmpB[k] = s2;
            k++;
        }
        for (int i = 0; i < k; i++)
        {
            dims[i] = tmpD[k - 1 - i];
            sa[i] = tmpA[k - 1 - i];
            sb[i] = tmpB[k - 1 - i];
        }
        return k;
    }
}
