using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using Nanoq.Kernels;

namespace Nanoq;

public static partial class Ops
{
    // All sums accumulate in double (Summation) and round once to float: a bias gradient summed over
    // N·H·W positions keeps full float precision.

    /// <summary>Σ over one axis. [d0, …, d(r−1)] → the shape without <paramref name="axis"/> (or with it as 1 when keepDim).</summary>
    public static Tensor Sum(Tensor t, int axis, bool keepDim = false) => Sum(t, [axis], keepDim);

    /// <summary>
    /// Σ over several axes (negative axes count from the end; each at most once). An empty axis list reduces
    /// nothing (NumPy's axis=()), returning a copy.
    /// </summary>
    public static Tensor Sum(Tensor t, int[] axes, bool keepDim = false) => Reduce(t, axes, keepDim, mean: false, nameof(Sum));

    /// <summary>Mean over one axis; the mean over an empty axis is NaN (as PyTorch).</summary>
    public static Tensor Mean(Tensor t, int axis, bool keepDim = false) => Mean(t, [axis], keepDim);

    /// <summary>Mean over several axes.</summary>
    public static Tensor Mean(Tensor t, int[] axes, bool keepDim = false) => Reduce(t, axes, keepDim, mean: true, nameof(Mean));

    /// <summary>Σ of all elements, accumulated in double (0 for an empty tensor).</summary>
    public static float SumAll(Tensor t) => (float)Summation.Sum(t.Span);

    /// <summary>Mean of all elements (NaN for an empty tensor).</summary>
    public static float MeanAll(Tensor t) => (float)(Summation.Sum(t.Span) / t.Size);

    /// <summary>Largest element; NaN if any element is NaN. Throws on an empty tensor.</summary>
    public static float MaxAll(Tensor t)
    {
        if (t.Size == 0) throw new InvalidOperationException($"MaxAll of an empty tensor {t.Shape}.");
        return System.Numerics.Tensors.TensorPrimitives.Max(t.Span);
    }

    /// <summary>Smallest element; NaN if any element is NaN. Throws on an empty tensor.</summary>
    public static float MinAll(Tensor t)
    {
        if (t.Size == 0) throw new InvalidOperationException($"MinAll of an empty tensor {t.Shape}.");
        return System.Numerics.Tensors.TensorPrimitives.Min(t.Span);
    }

    /// <summary>
    /// Sums a broadcast result back to the shape of the operand that was broadcast — the backward of
    /// broadcasting: grad [g0, …] → target, summing over the leading axes target lacks and over the axes where
    /// target has 1 and grad does not. Adjoint of broadcasting: ⟨broadcast(a), g⟩ = ⟨a, ReduceToShape(g, a.Shape)⟩.
    /// Always returns a new tensor (a copy when the shapes already match).
    /// </summary>
    public static Tensor ReduceToShape(Tensor grad, Shape target)
    {
        if (BroadcastShape(target, grad.Shape, nameof(ReduceToShape)) != grad.Shape)
            throw new ArgumentException($"ReduceToShape: shape {target} does not broadcast to the gradient's shape {grad.Shape}.");
        var y = Tensor.Empty(target);
        if (grad.Shape == target)
        {
            grad.Span.CopyTo(y.Span);
            return y;
        }
        int r = grad.Rank;
        Span<bool> reduce = stackalloc bool[r];
        for (int i = 0; i < r; i++)
        {
            int j = i - (r - target.Rank);
            reduce[i] = j < 0 || (target.Dims[j] == 1 && grad.Shape.Dims[i] != 1);
        }
        SumInto(grad, reduce, y.Span, 1.0);
        return y;
    }

    private static Tensor Reduce(Tensor t, int[] axes, bool keepDim, bool mean, string op)
    {
        ArgumentNullException.ThrowIfNull(axes);
        int r = t.Rank;
        Span<bool> reduce = stackalloc bool[r];
        foreach (int a in axes)
        {
            int ax = t.Shape.Axis(a);
            if (reduce[ax]) throw new ArgumentException($"{op}: axis {a} appears more than once in [{string.Join(", ", axes)}] for shape {t.Shape}.");
            reduce[ax] = true;
        }
        var dims = new List<int>(r);
        long count = 1;
        for (int i = 0; i < r; i++)
        {
            if (reduce[i]) { count *= t.Shape.Dims[i]; if (keepDim) dims.Add(1); }
            else dims.Add(t.Shape.Dims[i]);
        }
        var y = Tensor.Empty(new Shape(dims.ToArray()));
        SumInto(t, reduce, y.Span, mean ? 1.0 / count : 1.0);
        return y;
    }

    /// <summary>
    /// y = scale · Σ of x over the flagged axes; y holds the kept axes in order (contiguous). Axes of size 1 drop
    /// out and runs of axes with the same flag merge, so [N, C, H, W] over {0, 2, 3} is [N(Σ), C, HW(Σ)]: per (n, c)
    /// one contiguous HW sum into y[c]; [N, C] over {0} adds N rows of C into y.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SumInto(Tensor x, ReadOnlySpan<bool> reduce, Span<float> y, double scale)
    {
        if (x.Size == 0)
        {
            y.Fill((float)(0 * scale)); // 0 for a sum, NaN (0 · ∞) for a mean over nothing
            return;
        }
        int r = x.Rank;
        Span<int> dims = stackalloc int[r], sx = stackalloc int[r], sy = stackalloc int[r];
        int k = 0, strideX = 1, strideY = 1;
        for (int i = r - 1; i >= 0; i--) // inner to outer, merging as we go
        {
            int d = x.Shape.Dims[i];
            int s1 = strideX, s2 = reduce[i] ? 0 : strideY;
            strideX *= d;
            if (!reduce[i]) strideY *= d;
            if (d == 1) continue;
            if (k > 0 && sx[k - 1] * dims[k - 1] == s1 && sy[k - 1] * dims[k - 1] == s2) { dims[k - 1] *= d; continue; }
            dims[k] = d; sx[k] = s1; sy[k] = s2; k++;
        }
        // Axes now run innermost first: index 0 is the innermost.
        double[] acc = ArrayPool<double>.Shared.Rent(y.Length);
        try
        {
            var a = acc.AsSpan(0, y.Length);
            a.Clear();
            ReadOnlySpan<float> xs = x.Span;
            if (k == 0) a[0] = xs[0];
            else
            {
                int inner = dims[0];
                bool innerKept = sy[0] != 0;
                int outer = x.Size / inner;
                Span<int> idx = stackalloc int[k];
                idx.Clear();
                int offY = 0;
                for (int it = 0, offX = 0; it < outer; it++, offX += inner)
                {
                    var run = xs.Slice(offX, inner);
                    if (innerKept) Summation.AccumulateInto(run, a.Slice(offY, inner));
                    else a[offY] += Summation.Sum(run);
                    for (int ax = 1; ax < k; ax++)
                    {
                        offY += sy[ax];
                        if (++idx[ax] < dims[ax]) break;
                        offY -= sy[ax] * dims[ax];
                        idx[ax] = 0;
                    }
                }
            }
            Summation.Narrow(a, scale, y);
        }
        finally
        {
            ArrayPool<double>.Shared.Return(acc);
        }
    }

    // ---- max / min / argmax along an axis ---------------------------------------------------------------------

    /// <summary>Max along <paramref name="axis"/>; NaN wins (as torch.max). Throws if the axis is empty.</summary>
    public static Tensor Max(Tensor t, int axis, bool keepDim = false) => Extremum(t, axis, keepDim, max: true, wantIndex: false, out _);

    /// <summary>
    /// Max along <paramref name="axis"/> and the index of the first maximum per output element (argmax has the output's
    /// size; it comes from <see cref="TensorPool.RentInt"/>, and may be given back with <see cref="TensorPool.Return(int[])"/>).
    /// </summary>
    public static Tensor Max(Tensor t, int axis, bool keepDim, out int[] argmax) => Extremum(t, axis, keepDim, max: true, wantIndex: true, out argmax);

    /// <summary>Min along <paramref name="axis"/>; NaN wins.</summary>
    public static Tensor Min(Tensor t, int axis, bool keepDim = false) => Extremum(t, axis, keepDim, max: false, wantIndex: false, out _);

    /// <summary>Min along <paramref name="axis"/> and the index of the first minimum (see <see cref="Max(Tensor, int, bool, out int[])"/>).</summary>
    public static Tensor Min(Tensor t, int axis, bool keepDim, out int[] argmin) => Extremum(t, axis, keepDim, max: false, wantIndex: true, out argmin);

    /// <summary>Index of the first maximum along <paramref name="axis"/> (a NaN counts as the maximum), in row-major order of the other axes.</summary>
    public static int[] ArgMax(Tensor t, int axis)
    {
        using var v = Extremum(t, axis, false, max: true, wantIndex: true, out var idx);
        return idx;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static Tensor Extremum(Tensor t, int axis, bool keepDim, bool max, bool wantIndex, out int[] index)
    {
        int ax = t.Shape.Axis(axis);
        int len = t.Shape.Dims[ax];
        int outer = t.Shape.SizeOf(0, ax), inner = t.Shape.SizeOf(ax + 1, t.Rank);
        if (len == 0) throw new ArgumentException($"{(max ? "Max" : "Min")}: axis {axis} of shape {t.Shape} is empty.");
        var dims = t.Shape.ToArray().ToList();
        if (keepDim) dims[ax] = 1; else dims.RemoveAt(ax);
        var y = Tensor.Empty(new Shape(dims.ToArray()));
        index = TensorPool.RentInt(wantIndex ? y.Size : 0);
        ReadOnlySpan<float> xs = t.Span;
        Span<float> ys = y.Span;
        Span<int> ids = index;
        float sign = max ? 1f : -1f; // compare sign·v so one loop serves both
        for (int o = 0; o < outer; o++)
        {
            var xb = xs.Slice(o * len * inner, len * inner);
            var yb = ys.Slice(o * inner, inner);
            xb[..inner].CopyTo(yb);
            if (wantIndex) ids.Slice(o * inner, inner).Clear();
            for (int l = 1; l < len; l++)
            {
                var row = xb.Slice(l * inner, inner);
                int j = 0;
                if (Vector.IsHardwareAccelerated && inner >= Vector<float>.Count)
                {
                    // Same rule lane-wise: take where v beats the best so far, or v is the first NaN.
                    var lv = new Vector<int>(l);
                    for (; j <= inner - Vector<float>.Count; j += Vector<float>.Count)
                    {
                        var v = new Vector<float>(row[j..]);
                        var b = new Vector<float>(yb[j..]);
                        var take = (max ? Vector.GreaterThan(v, b) : Vector.LessThan(v, b)) | (~Vector.Equals(v, v) & Vector.Equals(b, b));
                        Vector.ConditionalSelect(take, v, b).CopyTo(yb[j..]);
                        if (wantIndex)
                        {
                            var ix = ids.Slice(o * inner + j, Vector<int>.Count);
                            Vector.ConditionalSelect(take, lv, new Vector<int>(ix)).CopyTo(ix);
                        }
                    }
                }
                for (; j < inner; j++)
                {
                    float v = row[j], b = yb[j];
                    if (sign * v > sign * b || (float.IsNaN(v) && !float.IsNaN(b)))
                    {
                        yb[j] = v;
                        if (wantIndex) ids[o * inner + j] = l;
                    }
                }
            }
        }
        return y;
    }
}
