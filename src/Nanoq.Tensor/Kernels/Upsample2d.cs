using System.Buffers;
using System.Runtime.CompilerServices;

namespace Nanoq.Kernels;

/// <summary>
/// Nearest-neighbour upsampling of NCHW planes, forward and backward.
/// <list type="bullet">
/// <item>Integer scale s: y[i, j] = x[i / s, j / s], y: [n, c, h·s, w·s]; backward sums the s² children:
/// dx[i, j] = Σ_{a,b &lt; s} dy[i·s + a, j·s + b]. This is the form FPN's top-down path and the integer runtime use.</item>
/// <item>Explicit output size (oh, ow): PyTorch's legacy 'nearest' rule src = min(floor(dst · (in / out)), in − 1)
/// with the scale in float32 — the same index as <c>F.interpolate(mode='nearest', size=…)</c>, including its
/// special cases out = in (identity) and out = 2·in (dst / 2). Backward: dx[src] += dy[dst].</item>
/// </list>
/// Backwards overwrite dx. Planes run in parallel when large (deterministic: each plane is one chunk's work).
/// </summary>
public static unsafe class Upsample2d
{
    /// <summary>x: [n, c, h, w] → y: [n, c, h·scale, w·scale].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void NearestForward(ReadOnlySpan<float> x, int n, int c, int h, int w, int scale, Span<float> y)
    {
        if (scale <= 0) throw new ArgumentException($"NearestForward: scale {scale} must be positive.");
        int oh = h * scale, ow = w * scale;
        int planes = CheckSizes(x.Length, y.Length, n, c, h, w, oh, ow, "NearestForward");
        if (planes == 0 || oh * ow == 0) return;
        fixed (float* px = x)
        fixed (float* py = y)
        {
            nint ax = (nint)px, ay = (nint)py;
            WorkSplit.For(planes, (long)oh * ow, (p0, p1) =>
            {
                for (int p = p0; p < p1; p++)
                {
                    float* xp = (float*)ax + (long)p * h * w;
                    float* yp = (float*)ay + (long)p * oh * ow;
                    for (int i = 0; i < h; i++)
                    {
                        // Widen one input row into the first output row of the group, then copy it s − 1 times.
                        float* src = xp + i * w;
                        float* dst = yp + (long)i * scale * ow;
                        if (scale == 2)
                        {
                            for (int j = 0; j < w; j++)
                            {
                                float v = src[j];
                                dst[2 * j] = v;
                                dst[2 * j + 1] = v;
                            }
                        }
                        else
                        {
                            for (int j = 0; j < w; j++)
                            {
                                float v = src[j];
                                float* d = dst + j * scale;
                                for (int b = 0; b < scale; b++) d[b] = v;
                            }
                        }
                        var first = new ReadOnlySpan<float>(dst, ow);
                        for (int a = 1; a < scale; a++) first.CopyTo(new Span<float>(dst + a * ow, ow));
                    }
                }
            });
        }
    }

    /// <summary>dy: [n, c, h·scale, w·scale] → dx: [n, c, h, w]; dx = Σ of each scale×scale block of dy.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void NearestBackward(ReadOnlySpan<float> dy, int n, int c, int h, int w, int scale, Span<float> dx)
    {
        if (scale <= 0) throw new ArgumentException($"NearestBackward: scale {scale} must be positive.");
        int oh = h * scale, ow = w * scale;
        int planes = CheckSizes(dx.Length, dy.Length, n, c, h, w, oh, ow, "NearestBackward");
        if (planes == 0 || h * w == 0) return;
        fixed (float* pg = dy)
        fixed (float* pd = dx)
        {
            nint ag = (nint)pg, ad = (nint)pd;
            WorkSplit.For(planes, (long)oh * ow, (p0, p1) =>
            {
                for (int p = p0; p < p1; p++)
                {
                    float* g = (float*)ag + (long)p * oh * ow;
                    float* d = (float*)ad + (long)p * h * w;
                    if (scale == 2)
                    {
                        // The FPN case, unrolled; summed in the same order as the general loops, so every path agrees bitwise.
                        for (int i = 0; i < h; i++)
                        {
                            float* drow = d + i * w;
                            float* g0 = g + (long)2 * i * ow, g1 = g0 + ow;
                            for (int j = 0; j < w; j++)
                                drow[j] = g0[2 * j] + g0[2 * j + 1] + g1[2 * j] + g1[2 * j + 1];
                        }
                        continue;
                    }
                    for (int i = 0; i < h; i++)
                    {
                        float* drow = d + i * w;
                        for (int j = 0; j < w; j++)
                        {
                            float sum = 0;
                            for (int a = 0; a < scale; a++)
                            {
                                float* grow = g + (long)(i * scale + a) * ow + j * scale;
                                for (int b = 0; b < scale; b++) sum += grow[b];
                            }
                            drow[j] = sum;
                        }
                    }
                }
            });
        }
    }

    /// <summary>PyTorch's legacy nearest source index: out = in → dst; out = 2·in → dst / 2; else min(⌊dst · (float)(in/out)⌋, in − 1).</summary>
    public static int SourceIndex(int dst, int inSize, int outSize)
    {
        if (outSize == inSize) return dst;
        if (outSize == 2 * inSize) return dst >> 1;
        float scale = (float)inSize / outSize;
        return Math.Min((int)MathF.Floor(dst * scale), inSize - 1);
    }

    /// <summary>x: [n, c, h, w] → y: [n, c, oh, ow] with the index rule of <see cref="SourceIndex"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void NearestForward(ReadOnlySpan<float> x, int n, int c, int h, int w, int oh, int ow, Span<float> y)
    {
        int planes = CheckSizes(x.Length, y.Length, n, c, h, w, oh, ow, "NearestForward");
        if (planes == 0 || oh * ow == 0) return;
        if (h == 0 || w == 0) throw new ArgumentException($"NearestForward: cannot upsample an empty {h}×{w} plane to {oh}×{ow}.");
        int[] rows = ArrayPool<int>.Shared.Rent(oh), cols = ArrayPool<int>.Shared.Rent(ow);
        try
        {
            for (int i = 0; i < oh; i++) rows[i] = SourceIndex(i, h, oh);
            for (int j = 0; j < ow; j++) cols[j] = SourceIndex(j, w, ow);
            fixed (float* px = x)
            fixed (float* py = y)
            {
                nint ax = (nint)px, ay = (nint)py;
                WorkSplit.For(planes, (long)oh * ow, (p0, p1) =>
                {
                    for (int p = p0; p < p1; p++)
                    {
                        float* xp = (float*)ax + (long)p * h * w;
                        float* yp = (float*)ay + (long)p * oh * ow;
                        for (int i = 0; i < oh; i++)
                        {
                            float* dst = yp + (long)i * ow;
                            if (i > 0 && rows[i] == rows[i - 1])
                            {
                                new ReadOnlySpan<float>(dst - ow, ow).CopyTo(new Span<float>(dst, ow));
                                continue;
                            }
                            float* src = xp + (long)rows[i] * w;
                            for (int j = 0; j < ow; j++) dst[j] = src[cols[j]];
                        }
                    }
                });
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(rows);
            ArrayPool<int>.Shared.Return(cols);
        }
    }

    /// <summary>dy: [n, c, oh, ow] → dx: [n, c, h, w]; dx[src(i), src(j)] += dy[i, j].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void NearestBackward(ReadOnlySpan<float> dy, int n, int c, int h, int w, int oh, int ow, Span<float> dx)
    {
        int planes = CheckSizes(dx.Length, dy.Length, n, c, h, w, oh, ow, "NearestBackward");
        if (planes == 0 || h * w == 0) return;
        int[] rows = ArrayPool<int>.Shared.Rent(oh), cols = ArrayPool<int>.Shared.Rent(ow);
        try
        {
            for (int i = 0; i < oh; i++) rows[i] = SourceIndex(i, h, oh);
            for (int j = 0; j < ow; j++) cols[j] = SourceIndex(j, w, ow);
            fixed (float* pg = dy)
            fixed (float* pd = dx)
            {
                nint ag = (nint)pg, ad = (nint)pd;
                WorkSplit.For(planes, (long)oh * ow + h * w, (p0, p1) =>
                {
                    for (int p = p0; p < p1; p++)
                    {
                        float* g = (float*)ag + (long)p * oh * ow;
                        float* d = (float*)ad + (long)p * h * w;
                        new Span<float>(d, h * w).Clear();
                        for (int i = 0; i < oh; i++)
                        {
                            float* grow = g + (long)i * ow;
                            float* drow = d + (long)rows[i] * w;
                            for (int j = 0; j < ow; j++) drow[cols[j]] += grow[j];
                        }
                    }
                });
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(rows);
            ArrayPool<int>.Shared.Return(cols);
        }
    }

    private static int CheckSizes(int inputLen, int outputLen, int n, int c, int h, int w, int oh, int ow, string op)
    {
        if (n < 0 || c < 0 || h < 0 || w < 0 || oh < 0 || ow < 0)
            throw new ArgumentException($"{op}: negative shape [{n}, {c}, {h}, {w}] → {oh}×{ow}.");
        long planes = (long)n * c;
        if (inputLen != planes * h * w)
            throw new ArgumentException($"{op}: input [{n}, {c}, {h}, {w}] needs {planes * h * w} elements, got {inputLen}.");
        if (outputLen != planes * oh * ow)
            throw new ArgumentException($"{op}: output [{n}, {c}, {oh}, {ow}] needs {planes * oh * ow} elements, got {outputLen}.");
        return (int)planes;
    }
}
