using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace Nanoq;

public static partial class Ops
{
    // Layout operations copy (DESIGN §2: only reshape and first-axis slices are views). Most are expressed on the
    // [outer, axis, inner] view of a tensor around one axis, where a contiguous block of axis·inner elements
    // repeats outer times.

    /// <summary>
    /// y = x with its axes reordered: y.Dim(i) = x.Dim(perm[i]) (as torch.permute). Axes that stay adjacent and in
    /// order merge; when the last axis stays last, rows copy as blocks; otherwise a 32×32-tiled transpose keeps both
    /// sides in cache (e.g. NCHW → NHWC).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static Tensor Permute(Tensor t, params int[] perm)
    {
        ArgumentNullException.ThrowIfNull(perm);
        int r = t.Rank;
        if (perm.Length != r) throw new ArgumentException($"Permute: [{string.Join(", ", perm)}] is not a permutation of the {r} axes of {t.Shape}.");
        Span<bool> seen = stackalloc bool[r];
        var outDims = new int[r];
        var p = new int[r];
        for (int i = 0; i < r; i++)
        {
            int a = perm[i] < 0 ? perm[i] + r : perm[i];
            if ((uint)a >= (uint)r || seen[a])
                throw new ArgumentException($"Permute: [{string.Join(", ", perm)}] is not a permutation of the {r} axes of {t.Shape}.");
            seen[a] = true;
            p[i] = a;
            outDims[i] = t.Shape.Dims[a];
        }
        var y = Tensor.Empty(new Shape(outDims));
        if (y.Size == 0) return y;

        // Output axes with their source strides; drop size-1 axes, merge neighbours contiguous in the source.
        Span<int> d = stackalloc int[r], ss = stackalloc int[r];
        int k = 0;
        for (int i = 0; i < r; i++)
        {
            int dim = outDims[i];
            if (dim == 1) continue;
            int s = t.Shape.Stride(p[i]);
            if (k > 0 && ss[k - 1] == s * dim) { d[k - 1] *= dim; ss[k - 1] = s; continue; }
            d[k] = dim; ss[k] = s; k++;
        }
        ReadOnlySpan<float> src = t.Span;
        Span<float> dst = y.Span;
        if (k <= 1)
        {
            src.CopyTo(dst); // all non-unit axes kept their order: nothing moves
            return y;
        }
        // Output strides (contiguous).
        Span<int> os = stackalloc int[k];
        os[k - 1] = 1;
        for (int i = k - 2; i >= 0; i--) os[i] = os[i + 1] * d[i + 1];

        if (ss[k - 1] == 1)
        {
            // Innermost axis stays innermost: copy rows of d[k−1].
            int inner = d[k - 1];
            CopyRows(d[..(k - 1)], ss[..(k - 1)], src, dst, inner);
            return y;
        }

        // General case: transpose between output axis q (source stride 1) and the output's last axis.
        int q = ss[..k].IndexOf(1);
        int lenQ = d[q], lenJ = d[k - 1], sJ = ss[k - 1], oQ = os[q];
        Span<int> od = stackalloc int[k], osrc = stackalloc int[k], odst = stackalloc int[k];
        int m = 0;
        for (int i = 0; i < k - 1; i++)
        {
            if (i == q) continue;
            od[m] = d[i]; osrc[m] = ss[i]; odst[m] = os[i]; m++;
        }
        Span<int> idx = stackalloc int[Math.Max(m, 1)];
        idx.Clear();
        int count = 1;
        for (int i = 0; i < m; i++) count *= od[i];
        int so = 0, doff = 0;
        const int T = 32;
        for (int it = 0; it < count; it++)
        {
            for (int j0 = 0; j0 < lenJ; j0 += T)
            {
                int j1 = Math.Min(j0 + T, lenJ);
                for (int q0 = 0; q0 < lenQ; q0 += T)
                {
                    int q1 = Math.Min(q0 + T, lenQ);
                    for (int qq = q0; qq < q1; qq++)
                    {
                        int sBase = so + qq, dBase = doff + qq * oQ;
                        for (int jj = j0; jj < j1; jj++) dst[dBase + jj] = src[sBase + jj * sJ];
                    }
                }
            }
            for (int ax = m - 1; ax >= 0; ax--)
            {
                so += osrc[ax];
                doff += odst[ax];
                if (++idx[ax] < od[ax]) break;
                so -= osrc[ax] * od[ax];
                doff -= odst[ax] * od[ax];
                idx[ax] = 0;
            }
        }
        return y;
    }

    /// <summary>Copies rows of <paramref name="inner"/> elements: output rows in order, source rows at the odometer's offsets.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CopyRows(ReadOnlySpan<int> dims, ReadOnlySpan<int> srcStrides, ReadOnlySpan<float> src, Span<float> dst, int inner)
    {
        int k = dims.Length;
        Span<int> idx = stackalloc int[Math.Max(k, 1)];
        idx.Clear();
        int count = 1;
        for (int i = 0; i < k; i++) count *= dims[i];
        int so = 0;
        for (int it = 0, doff = 0; it < count; it++, doff += inner)
        {
            src.Slice(so, inner).CopyTo(dst.Slice(doff, inner));
            for (int ax = k - 1; ax >= 0; ax--)
            {
                so += srcStrides[ax];
                if (++idx[ax] < dims[ax]) break;
                so -= srcStrides[ax] * dims[ax];
                idx[ax] = 0;
            }
        }
    }

    /// <summary>Swaps two axes (a permutation).</summary>
    public static Tensor Transpose(Tensor t, int a, int b)
    {
        int r = t.Rank;
        var perm = new int[r];
        for (int i = 0; i < r; i++) perm[i] = i;
        int aa = t.Shape.Axis(a), bb = t.Shape.Axis(b);
        (perm[aa], perm[bb]) = (perm[bb], perm[aa]);
        return Permute(t, perm);
    }

    /// <summary>Joins tensors along <paramref name="axis"/>; every other dimension must match.</summary>
    public static Tensor Concat(IReadOnlyList<Tensor> parts, int axis)
    {
        ArgumentNullException.ThrowIfNull(parts);
        if (parts.Count == 0) throw new ArgumentException("Concat: needs at least one tensor.");
        var first = parts[0].Shape;
        int ax = first.Axis(axis);
        int total = 0;
        foreach (var part in parts)
        {
            var s = part.Shape;
            bool ok = s.Rank == first.Rank;
            for (int i = 0; ok && i < s.Rank; i++) ok = i == ax || s.Dims[i] == first.Dims[i];
            if (!ok) throw new ArgumentException($"Concat along axis {axis}: shapes {first} and {s} differ off that axis.");
            total += s.Dims[ax];
        }
        var y = Tensor.Empty(first.With(ax, total));
        int outer = first.SizeOf(0, ax), inner = first.SizeOf(ax + 1, first.Rank);
        int outBlock = total * inner, at = 0;
        Span<float> dst = y.Span;
        foreach (var part in parts)
        {
            int block = part.Shape.Dims[ax] * inner;
            ReadOnlySpan<float> src = part.Span;
            for (int o = 0; o < outer; o++) src.Slice(o * block, block).CopyTo(dst.Slice(o * outBlock + at, block));
            at += block;
        }
        return y;
    }

    /// <summary>Cuts <paramref name="t"/> along <paramref name="axis"/> into pieces of the given sizes (which must sum to the axis length).</summary>
    public static Tensor[] Split(Tensor t, int axis, int[] sizes)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        int ax = t.Shape.Axis(axis);
        long sum = 0;
        foreach (int s in sizes)
        {
            if (s < 0) throw new ArgumentException($"Split: negative size in [{string.Join(", ", sizes)}].");
            sum += s;
        }
        if (sum != t.Shape.Dims[ax])
            throw new ArgumentException($"Split of {t.Shape} along axis {axis}: sizes [{string.Join(", ", sizes)}] sum to {sum}, not {t.Shape.Dims[ax]}.");
        var result = new Tensor[sizes.Length];
        int start = 0;
        for (int i = 0; i < sizes.Length; i++)
        {
            result[i] = SliceAxis(t, ax, start, sizes[i]);
            start += sizes[i];
        }
        return result;
    }

    /// <summary>A copy of the elements [start, start + length) along <paramref name="axis"/>.</summary>
    public static Tensor SliceAxis(Tensor t, int axis, int start, int length)
    {
        int ax = t.Shape.Axis(axis);
        int len = t.Shape.Dims[ax];
        if (start < 0 || length < 0 || start + (long)length > len)
            throw new ArgumentOutOfRangeException(nameof(start), $"SliceAxis: [{start}, {start + (long)length}) is outside axis {axis} of {t.Shape}.");
        var y = Tensor.Empty(t.Shape.With(ax, length));
        int outer = t.Shape.SizeOf(0, ax), inner = t.Shape.SizeOf(ax + 1, t.Rank);
        int block = length * inner, srcBlock = len * inner;
        ReadOnlySpan<float> src = t.Span;
        Span<float> dst = y.Span;
        for (int o = 0; o < outer; o++) src.Slice(o * srcBlock + start * inner, block).CopyTo(dst.Slice(o * block, block));
        return y;
    }

    /// <summary>y[…, i, …] = t[…, indices[i], …] along <paramref name="axis"/> (indices may repeat).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static Tensor IndexSelect(Tensor t, int axis, int[] indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        int ax = t.Shape.Axis(axis);
        int len = t.Shape.Dims[ax];
        var y = Tensor.Empty(t.Shape.With(ax, indices.Length));
        int outer = t.Shape.SizeOf(0, ax), inner = t.Shape.SizeOf(ax + 1, t.Rank);
        CheckIndices(indices, len, nameof(IndexSelect), t.Shape, axis);
        ReadOnlySpan<float> src = t.Span;
        Span<float> dst = y.Span;
        int n = indices.Length;
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < n; i++)
                src.Slice((o * len + indices[i]) * inner, inner).CopyTo(dst.Slice((o * n + i) * inner, inner));
        return y;
    }

    /// <summary>
    /// dst[…, indices[i], …] += src[…, i, …] along <paramref name="axis"/>, repeated indices accumulating in order
    /// (the backward of <see cref="IndexSelect"/>). src's shape is dst's with that axis of length indices.Length.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void IndexAddInPlace(Tensor dst, int axis, int[] indices, Tensor src)
    {
        ArgumentNullException.ThrowIfNull(indices);
        int ax = dst.Shape.Axis(axis);
        if (src.Rank != dst.Rank || src.Shape != dst.Shape.With(ax, indices.Length))
            throw new ArgumentException($"IndexAddInPlace along axis {axis} with {indices.Length} indices: source shape {src.Shape} does not fit destination shape {dst.Shape}.");
        int len = dst.Shape.Dims[ax];
        CheckIndices(indices, len, nameof(IndexAddInPlace), dst.Shape, axis);
        int outer = dst.Shape.SizeOf(0, ax), inner = dst.Shape.SizeOf(ax + 1, dst.Rank);
        ReadOnlySpan<float> s = src.Span;
        Span<float> d = dst.Span;
        int n = indices.Length;
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < n; i++)
            {
                var row = d.Slice((o * len + indices[i]) * inner, inner);
                TensorPrimitives.Add(row, s.Slice((o * n + i) * inner, inner), row);
            }
    }

    private static void CheckIndices(int[] indices, int len, string op, Shape shape, int axis)
    {
        foreach (int i in indices)
            if ((uint)i >= (uint)len) throw new ArgumentOutOfRangeException(nameof(indices), $"{op}: index {i} is outside axis {axis} of {shape}.");
    }

    /// <summary>
    /// Pads the last two axes at the bottom and right: [… , h, w] → [… , h + padBottom, w + padRight], new cells =
    /// <paramref name="value"/>. For batching images of different sizes (top-left aligned, so boxes keep their coordinates).
    /// </summary>
    public static Tensor Pad2d(Tensor t, int padBottom, int padRight, float value = 0f)
    {
        if (t.Rank < 2) throw new ArgumentException($"Pad2d: needs at least 2 axes, got shape {t.Shape}.");
        if (padBottom < 0 || padRight < 0) throw new ArgumentException($"Pad2d: padding ({padBottom}, {padRight}) must be non-negative.");
        int h = t.Dim(-2), w = t.Dim(-1);
        int oh = h + padBottom, ow = w + padRight;
        var y = Tensor.Empty(t.Shape.With(-2, oh).With(-1, ow));
        int planes = t.Shape.SizeOf(0, t.Rank - 2);
        ReadOnlySpan<float> src = t.Span;
        Span<float> dst = y.Span;
        for (int p = 0; p < planes; p++)
        {
            var dp = dst.Slice(p * oh * ow, oh * ow);
            for (int i = 0; i < h; i++)
            {
                src.Slice((p * h + i) * w, w).CopyTo(dp.Slice(i * ow, w));
                dp.Slice(i * ow + w, padRight).Fill(value);
            }
            dp[(h * ow)..].Fill(value);
        }
        return y;
    }

    /// <summary>The top-left [h, w] window of the last two axes: the adjoint of <see cref="Pad2d"/>.</summary>
    public static Tensor Crop2d(Tensor t, int h, int w)
    {
        if (t.Rank < 2) throw new ArgumentException($"Crop2d: needs at least 2 axes, got shape {t.Shape}.");
        int ih = t.Dim(-2), iw = t.Dim(-1);
        if (h < 0 || w < 0 || h > ih || w > iw) throw new ArgumentException($"Crop2d: [{h}, {w}] does not fit inside the last two axes of {t.Shape}.");
        var y = Tensor.Empty(t.Shape.With(-2, h).With(-1, w));
        int planes = t.Shape.SizeOf(0, t.Rank - 2);
        ReadOnlySpan<float> src = t.Span;
        Span<float> dst = y.Span;
        for (int p = 0; p < planes; p++)
            for (int i = 0; i < h; i++)
                src.Slice((p * ih + i) * iw, w).CopyTo(dst.Slice((p * h + i) * w, w));
        return y;
    }
}
