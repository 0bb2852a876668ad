using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Nanoq.Kernels;

/// <summary>
/// 2-D max and average pooling over NCHW planes, with PyTorch's semantics (square kernel, symmetric padding,
/// floor mode): output size o = (h + 2·pad − kernel) / stride + 1, window of output (oy, ox) covers input rows
/// [oy·stride − pad, oy·stride − pad + kernel) and the same for columns.
/// <list type="bullet">
/// <item>Max: padding counts as −∞; ties go to the first maximum in row-major window order; a NaN wins (as
/// PyTorch, so NaNs propagate). argmax holds the flat index ih·w + iw inside the input plane, as PyTorch's indices.</item>
/// <item>Average: count_include_pad = true (PyTorch's default): every window divides by kernel².</item>
/// </list>
/// Backward kernels overwrite dx (they clear it, then scatter). Planes (n·c of them) are independent and run in
/// parallel when large; each plane is computed the same way whatever the split, so results are deterministic.
/// Like PyTorch, pad must be at most kernel / 2, so every window holds at least one real element.
/// </summary>
public static unsafe class Pooling2d
{
    /// <summary>o = (size + 2·pad − kernel) / stride + 1 (floor mode).</summary>
    public static int OutputSize(int size, int kernel, int stride, int pad)
    {
        if (kernel <= 0 || stride <= 0 || pad < 0)
            throw new ArgumentException($"Pooling: kernel {kernel} and stride {stride} must be positive, pad {pad} non-negative.");
        if (pad > kernel / 2)
            throw new ArgumentException($"Pooling: pad {pad} must be at most half the kernel size {kernel}.");
        if (size + 2 * pad < kernel)
            throw new ArgumentException($"Pooling: input size {size} with pad {pad} is smaller than the kernel {kernel}.");
        return (size + 2 * pad - kernel) / stride + 1;
    }

    // ---- max pooling ------------------------------------------------------------------------------------------

    /// <summary>
    /// x: [n, c, h, w] → y, argmax: [n, c, oh, ow]; y = max over the window, argmax = its flat index in the plane.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MaxPool2dForward(ReadOnlySpan<float> x, int n, int c, int h, int w, int kernel, int stride, int pad,
        Span<float> y, Span<int> argmax)
    {
        int oh = OutputSize(h, kernel, stride, pad), ow = OutputSize(w, kernel, stride, pad);
        int planes = CheckSizes(x.Length, y.Length, n, c, h, w, oh, ow, "MaxPool2dForward");
        if (argmax.Length != y.Length) throw new ArgumentException($"MaxPool2dForward: argmax has {argmax.Length} elements, y has {y.Length}.");
        if (planes == 0 || oh * ow == 0) return;
        fixed (float* px = x)
        fixed (float* py = y)
        fixed (int* pa = argmax)
        {
            nint ax = (nint)px, ay = (nint)py, aa = (nint)pa;
            WorkSplit.For(planes, (long)oh * ow * kernel * kernel, (p0, p1) =>
            {
                if (!Vector.IsHardwareAccelerated)
                {
                    for (int p = p0; p < p1; p++)
                        MaxPlaneScalar((float*)ax + (long)p * h * w, h, w, kernel, stride, pad,
                            (float*)ay + (long)p * oh * ow, (int*)aa + (long)p * oh * ow, oh, ow);
                    return;
                }
                var g = new MaxPoolGeometry(h, w, kernel, stride, pad, oh, ow);
                float[] phases = ArrayPool<float>.Shared.Rent(g.PhaseFloats);
                float[] rowY = ArrayPool<float>.Shared.Rent(g.PaddedOw);
                int[] rowA = ArrayPool<int>.Shared.Rent(g.PaddedOw);
                try
                {
                    fixed (float* ph = phases)
                    fixed (float* ry = rowY)
                    fixed (int* ra = rowA)
                        for (int p = p0; p < p1; p++)
                            MaxPlaneVector(in g, (float*)ax + (long)p * h * w, ph, ry, ra,
                                (float*)ay + (long)p * oh * ow, (int*)aa + (long)p * oh * ow);
                }
                finally
                {
                    ArrayPool<float>.Shared.Return(phases);
                    ArrayPool<float>.Shared.Return(rowY);
                    ArrayPool<int>.Shared.Return(rowA);
                }
            });
        }
    }

    /// <summary>Sizes of the vectorized max pool's scratch for one plane.</summary>
    private readonly struct MaxPoolGeometry
    {
        public readonly int H, W, K, S, Pad, Oh, Ow;
        /// <summary>ow rounded up to whole vectors.</summary>
        public readonly int PaddedOw;
        /// <summary>Length of one phase row: lane ox at kernel column kx reads phase (kx mod s) at ox + kx / s.</summary>
        public readonly int PhaseLen;
        public int PhaseFloats => H * S * PhaseLen;

        public MaxPoolGeometry(int h, int w, int k, int s, int pad, int oh, int ow)
        {
            H = h; W = w; K = k; S = s; Pad = pad; Oh = oh; Ow = ow;
            int v = Vector<float>.Count;
            PaddedOw = (ow + v - 1) / v * v;
            PhaseLen = PaddedOw + (k - 1) / s;
        }
    }

    /// <summary>
    /// One plane, vectorized across output columns. Each input row is first laid out as s "phases" of its −∞-padded
    /// copy P (phase r holds P[r], P[s + r], P[2s + r], …), so the value that output column ox sees at kernel column kx,
    /// P[ox·s + kx], sits at phase (kx mod s), position ox + kx / s: a contiguous vector load for consecutive ox, for any
    /// stride. The window is then scanned in PyTorch's row-major order with a lane-wise "greater, or NaN" select for
    /// value and index, which keeps the first maximum and lets a NaN win, exactly like the scalar rule.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MaxPlaneVector(in MaxPoolGeometry g, float* x, float* phases, float* rowY, int* rowA, float* y, int* arg)
    {
        int h = g.H, w = g.W, k = g.K, s = g.S, pad = g.Pad, len = g.PhaseLen;
        // Build the phases of every input row (each row feeds about k / s output rows).
        for (int iy = 0; iy < h; iy++)
        {
            float* src = x + (long)iy * w;
            for (int r = 0; r < s; r++)
            {
                // dst[j] = row[j·s + r − pad] where that column exists, −∞ elsewhere: [0, j0) and [j1, len) are padding.
                float* dst = phases + ((long)iy * s + r) * len;
                int j0 = Math.Min(len, pad > r ? (pad - r + s - 1) / s : 0);
                int last = w - 1 + pad - r; // j·s ≤ last ⇔ the column exists on the right
                int j1 = Math.Max(j0, Math.Min(len, last < 0 ? 0 : last / s + 1));
                new Span<float>(dst, j0).Fill(float.NegativeInfinity);
                if (s == 1) new ReadOnlySpan<float>(src + j0 - pad, j1 - j0).CopyTo(new Span<float>(dst + j0, j1 - j0));
                else
                {
                    float* from = src + (j0 * s + r - pad);
                    for (int j = j0; j < j1; j++, from += s) dst[j] = *from;
                }
                new Span<float>(dst + j1, len - j1).Fill(float.NegativeInfinity);
            }
        }
        int vc = Vector<float>.Count;
        var laneS = Vector<int>.Indices * s; // lane · s
        var minusInf = new Vector<float>(float.NegativeInfinity);
        for (int oy = 0; oy < g.Oh; oy++)
        {
            int y0 = oy * s - pad;
            int ys = Math.Max(y0, 0), ye = Math.Min(y0 + k, h);
            for (int ox0 = 0; ox0 < g.PaddedOw; ox0 += vc)
            {
                // Start at −∞ with the index of each window's first real element (as PyTorch).
                var colStart = laneS + new Vector<int>(ox0 * s - pad);
                var best = minusInf;
                var idx = Vector.Max(colStart, Vector<int>.Zero) + new Vector<int>(ys * w);
                for (int iy = ys; iy < ye; iy++)
                {
                    float* rowPhases = phases + (long)iy * s * len;
                    var rowBase = colStart + new Vector<int>(iy * w);
                    for (int kx = 0; kx < k; kx++)
                    {
                        var v = Vector.Load(rowPhases + (kx % s) * len + ox0 + kx / s);
                        var take = Vector.GreaterThan(v, best) | ~Vector.Equals(v, v); // greater, or NaN
                        best = Vector.ConditionalSelect(take, v, best);
                        idx = Vector.ConditionalSelect(take, rowBase + new Vector<int>(kx), idx);
                    }
                }
                best.Store(rowY + ox0);
                idx.Store(rowA + ox0);
            }
            new ReadOnlySpan<float>(rowY, g.Ow).CopyTo(new Span<float>(y + (long)oy * g.Ow, g.Ow));
            new ReadOnlySpan<int>(rowA, g.Ow).CopyTo(new Span<int>(arg + (long)oy * g.Ow, g.Ow));
        }
    }

    /// <summary>The scalar reference rule (used where <see cref="Vector"/> is not accelerated).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MaxPlaneScalar(float* x, int h, int w, int k, int s, int pad, float* y, int* arg, int oh, int ow)
    {
        for (int oy = 0; oy < oh; oy++)
        {
            int y0 = oy * s - pad;
            int ys = Math.Max(y0, 0), ye = Math.Min(y0 + k, h);
            for (int ox = 0; ox < ow; ox++)
            {
                int x0 = ox * s - pad;
                int xs = Math.Max(x0, 0), xe = Math.Min(x0 + k, w);
                // As PyTorch: start at −∞ with the index of the window's first real element; a NaN wins.
                float best = float.NegativeInfinity;
                int bi = ys * w + xs;
                for (int iy = ys; iy < ye; iy++)
                {
                    float* row = x + iy * w;
                    for (int ix = xs; ix < xe; ix++)
                    {
                        float v = row[ix];
                        if (v > best || float.IsNaN(v))
                        {
                            best = v;
                            bi = iy * w + ix;
                        }
                    }
                }
                y[oy * ow + ox] = best;
                arg[oy * ow + ox] = bi;
            }
        }
    }

    /// <summary>dy, argmax: [n, c, oh, ow] → dx: [n, c, h, w]; dx[argmax] += dy (overlapping windows sum), else 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MaxPool2dBackward(ReadOnlySpan<float> dy, ReadOnlySpan<int> argmax, int n, int c, int h, int w,
        int kernel, int stride, int pad, Span<float> dx)
    {
        int oh = OutputSize(h, kernel, stride, pad), ow = OutputSize(w, kernel, stride, pad);
        int planes = CheckSizes(dx.Length, dy.Length, n, c, h, w, oh, ow, "MaxPool2dBackward");
        if (argmax.Length != dy.Length) throw new ArgumentException($"MaxPool2dBackward: argmax has {argmax.Length} elements, dy has {dy.Length}.");
        if (planes == 0) return;
        int hw = h * w, ohw = oh * ow;
        fixed (float* pg = dy)
        fixed (int* pa = argmax)
        fixed (float* pd = dx)
        {
            nint ag = (nint)pg, aa = (nint)pa, ad = (nint)pd;
            WorkSplit.For(planes, hw + ohw, (p0, p1) =>
            {
                for (int p = p0; p < p1; p++)
                {
                    float* d = (float*)ad + (long)p * hw;
                    float* g = (float*)ag + (long)p * ohw;
                    int* a = (int*)aa + (long)p * ohw;
                    new Span<float>(d, hw).Clear();
                    for (int i = 0; i < ohw; i++)
                    {
                        int j = a[i];
                        if ((uint)j >= (uint)hw) throw new ArgumentException($"MaxPool2dBackward: argmax {j} is outside a {h}×{w} plane.");
                        d[j] += g[i];
                    }
                }
            });
        }
    }

    // ---- average pooling (count_include_pad = true) -----------------------------------------------------------

    /// <summary>x: [n, c, h, w] → y: [n, c, oh, ow]; y = (Σ window, padding as 0) / kernel².</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AvgPool2dForward(ReadOnlySpan<float> x, int n, int c, int h, int w, int kernel, int stride, int pad, Span<float> y)
    {
        int oh = OutputSize(h, kernel, stride, pad), ow = OutputSize(w, kernel, stride, pad);
        int planes = CheckSizes(x.Length, y.Length, n, c, h, w, oh, ow, "AvgPool2dForward");
        if (planes == 0 || oh * ow == 0) return;
        // In floor mode no window reaches past the padded border, so PyTorch's divisor is always kernel².
        float inv = 1f / (kernel * kernel);
        fixed (float* px = x)
        fixed (float* py = y)
        {
            nint ax = (nint)px, ay = (nint)py;
            WorkSplit.For(planes, (long)oh * ow * kernel * kernel, (p0, p1) =>
            {
                for (int p = p0; p < p1; p++)
                {
                    float* xp = (float*)ax + (long)p * h * w;
                    float* yp = (float*)ay + (long)p * oh * ow;
                    for (int oy = 0; oy < oh; oy++)
                    {
                        int y0 = oy * stride - pad;
                        int ys = Math.Max(y0, 0), ye = Math.Min(y0 + kernel, h);
                        for (int ox = 0; ox < ow; ox++)
                        {
                            int x0 = ox * stride - pad;
                            int xs = Math.Max(x0, 0), xe = Math.Min(x0 + kernel, w);
                            float sum = 0;
                            for (int iy = ys; iy < ye; iy++)
                            {
                                float* row = xp + iy * w;
                                for (int ix = xs; ix < xe; ix++) sum += row[ix];
                            }
                            yp[oy * ow + ox] = sum * inv;
                        }
                    }
                }
            });
        }
    }

    /// <summary>dy: [n, c, oh, ow] → dx: [n, c, h, w]; every input of a window receives dy / kernel².</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AvgPool2dBackward(ReadOnlySpan<float> dy, int n, int c, int h, int w, int kernel, int stride, int pad, Span<float> dx)
    {
        int oh = OutputSize(h, kernel, stride, pad), ow = OutputSize(w, kernel, stride, pad);
        int planes = CheckSizes(dx.Length, dy.Length, n, c, h, w, oh, ow, "AvgPool2dBackward");
        if (planes == 0) return;
        float inv = 1f / (kernel * kernel);
        fixed (float* pg = dy)
        fixed (float* pd = dx)
        {
            nint ag = (nint)pg, ad = (nint)pd;
            WorkSplit.For(planes, (long)oh * ow * kernel * kernel + h * w, (p0, p1) =>
            {
                for (int p = p0; p < p1; p++)
                {
                    float* d = (float*)ad + (long)p * h * w;
                    float* g = (float*)ag + (long)p * oh * ow;
                    new Span<float>(d, h * w).Clear();
                    for (int oy = 0; oy < oh; oy++)
                    {
                        int y0 = oy * stride - pad;
                        int ys = Math.Max(y0, 0), ye = Math.Min(y0 + kernel, h);
                        for (int ox = 0; ox < ow; ox++)
                        {
                            int x0 = ox * stride - pad;
                            int xs = Math.Max(x0, 0), xe = Math.Min(x0 + kernel, w);
                            float v = g[oy * ow + ox] * inv;
                            for (int iy = ys; iy < ye; iy++)
                            {
                                float* row = d + iy * w;
                                for (int ix = xs; ix < xe; ix++) row[ix] += v;
                            }
                        }
                    }
                }
            });
        }
    }

    // ---- global average pooling -------------------------------------------------------------------------------

    /// <summary>x: [n, c, h, w] → y: [n, c]; y = mean of the plane (summed in double).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GlobalAvgPoolForward(ReadOnlySpan<float> x, int n, int c, int h, int w, Span<float> y)
    {
        int planes = CheckSizes(x.Length, y.Length, n, c, h, w, 1, 1, "GlobalAvgPoolForward");
        int hw = h * w;
        if (hw == 0)
        {
            y.Fill(float.NaN); // the mean of nothing, as PyTorch's mean of an empty tensor
            return;
        }
        double inv = 1.0 / hw;
        for (int p = 0; p < planes; p++) y[p] = (float)(Summation.Sum(x.Slice(p * hw, hw)) * inv);
    }

    /// <summary>dy: [n, c] → dx: [n, c, h, w]; dx = dy / (h·w) across the plane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GlobalAvgPoolBackward(ReadOnlySpan<float> dy, int n, int c, int h, int w, Span<float> dx)
    {
        int planes = CheckSizes(dx.Length, dy.Length, n, c, h, w, 1, 1, "GlobalAvgPoolBackward");
        int hw = h * w;
        if (hw == 0) return;
        float inv = 1f / hw;
        for (int p = 0; p < planes; p++) dx.Slice(p * hw, hw).Fill(dy[p] * inv);
    }

    private static int CheckSizes(int inputLen, int outputLen, int n, int c, int h, int w, int oh, int ow, string op)
    {
        if (n < 0 || c < 0 || h < 0 || w < 0)
            throw new ArgumentException($"{op}: negative shape [{n}, {c}, {h}, {w}].");
        long planes = (long)n * c;
        if (inputLen != planes * h * w)
            throw new ArgumentException($"{op}: input [{n}, {c}, {h}, {w}] needs {planes * h * w} elements, got {inputLen}.");
        if (outputLen != planes * oh * ow)
            throw new ArgumentException($"{op}: output [{n}, {c}, {oh}, {ow}] needs {planes * oh * ow} elements, got {outputLen}.");
        return (int)planes;
    }
}
