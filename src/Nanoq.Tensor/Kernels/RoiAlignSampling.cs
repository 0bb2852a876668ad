using System.Runtime.CompilerServices;

namespace Nanoq.Kernels;

/// <summary>
/// The sampling geometry of RoIAlign, shared by the float kernel (<see cref="RoiAlign"/>) and the integer planner
/// (<see cref="RoiAlignPlanner"/>), so both see the same sampling points and bilinear weights, float32 for float32
/// as torchvision 0.14's CPU kernel (<c>roi_align_kernel.cpp</c>, <c>pre_calc_for_bilinear_interpolate</c>).
///
/// <para><b>One RoI</b> (b, x1, y1, x2, y2), in image coordinates, on a map of h × w at <c>spatial_scale</c> s:
/// <code>
///   b        = (int) roi[0]                                   (truncation, as the C++ cast)
///   offset   = aligned ? 0.5 : 0
///   start    = (x1·s − offset, y1·s − offset),  end = (x2·s − offset, y2·s − offset)
///   size     = end − start;  if !aligned: size = max(size, 1)   (malformed RoIs forced to 1×1)
///   bin      = size / pooled
///   grid     = sampling_ratio &gt; 0 ? sampling_ratio : ceil(size / pooled)   (adaptive: ≈ one point a pixel)
///   count    = max(grid_h · grid_w, 1)
///   y(ph,iy) = start_h + ph·bin_h + (iy + 0.5)·bin_h / grid_h        (x likewise; this evaluation order)
/// </code></para>
///
/// <para><b>One sampling point</b> (y, x), torchvision's boundary rule: a point with y &lt; −1, y &gt; h, x &lt; −1 or
/// x &gt; w (or a NaN coordinate, which 0.14 would cast undefined) contributes 0 — kept as a sample with index 0 and
/// weights 0, so 0 · x[0] is added exactly as the C++ does. Otherwise y ≤ 0 → 0 (x likewise); y_low = (int) y; if
/// y_low ≥ h − 1 then y_low = y_high = h − 1 and y = y_low, else y_high = y_low + 1; ly = y − y_low, hy = 1 − ly
/// (computed in double, then rounded to float, as the C++ <c>1. - ly</c>); weights hy·hx, hy·lx, ly·hx, ly·lx on
/// (y_low, x_low), (y_low, x_high), (y_high, x_low), (y_high, x_high).</para>
/// </summary>
internal static class RoiAlignSampling
{
    /// <summary>The per-RoI quantities of the class comment.</summary>
    internal readonly struct Roi
    {
        public readonly int Batch, GridH, GridW;
        public readonly float StartH, StartW, BinH, BinW, Count;

        public Roi(int batch, float startH, float startW, float binH, float binW, int gridH, int gridW, float count)
        {
            Batch = batch; StartH = startH; StartW = startW; BinH = binH; BinW = binW; GridH = gridH; GridW = gridW; Count = count;
        }

        /// <summary>Sampling points of one bin: grid_h · grid_w when both are positive, else none.</summary>
        public int SamplesPerBin => GridH > 0 && GridW > 0 ? GridH * GridW : 0;
    }

    /// <summary>
    /// One sampling point: four flat plane indices (iy·w + ix) and their bilinear weights; <see cref="OffMap"/> marks a
    /// point beyond the map's boundary (indices and weights 0: the forward still adds 0 · x[0], as the C++ does, and
    /// the backward skips it, as the C++ does).
    /// </summary>
    internal struct Sample
    {
        public int P1, P2, P3, P4;
        public float W1, W2, W3, W4;
        public bool OffMap;
    }

    /// <summary>The geometry of RoI <paramref name="roi"/> (5 floats); checks the batch index against n.</summary>
    public static Roi Geometry(ReadOnlySpan<float> roi, int n, int pooledH, int pooledW, float spatialScale, int samplingRatio, bool aligned)
    {
        float bf = roi[0];
        int batch = (int)bf;
        if (!(bf > -1f) || batch >= n)
            throw new ArgumentException($"RoiAlign: RoI batch index {bf} is outside the batch of {n} images.");
        float offset = aligned ? 0.5f : 0f;
        float startW = roi[1] * spatialScale - offset;
        float startH = roi[2] * spatialScale - offset;
        float endW = roi[3] * spatialScale - offset;
        float endH = roi[4] * spatialScale - offset;
        float roiW = endW - startW, roiH = endH - startH;
        if (!aligned)
        {
            roiW = MathF.Max(roiW, 1f);
            roiH = MathF.Max(roiH, 1f);
        }
        float binH = roiH / pooledH, binW = roiW / pooledW;
        int gridH = samplingRatio > 0 ? samplingRatio : CeilToInt(roiH / pooledH);
        int gridW = samplingRatio > 0 ? samplingRatio : CeilToInt(roiW / pooledW);
        float count = Math.Max(gridH * gridW, 1);
        return new Roi(batch, startH, startW, binH, binW, gridH, gridW, count);
    }

    /// <summary>ceil of a float to int; NaN → 0 (no samples), huge values saturate (the C++ cast is undefined there).</summary>
    private static int CeilToInt(float v)
    {
        float c = MathF.Ceiling(v);
        if (float.IsNaN(c)) return 0;
        if (c >= 1 << 20) throw new ArgumentException($"RoiAlign: an adaptive sampling grid of {c} points a bin side is too large.");
        return (int)c;
    }

    /// <summary>
    /// pre_calc_for_bilinear_interpolate: the samples of every bin, bin-major (ph, pw), then iy, ix — the order the
    /// forward accumulates in. <paramref name="samples"/> holds pooledH · pooledW · SamplesPerBin entries. A point's y
    /// depends on (ph, iy) only and its x on (pw, ix), so each axis's half of <see cref="Bilinear"/> is computed once per
    /// row and column of points (<see cref="Axes"/>: the same float32 operations), and a sample is their four products.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Fill(in Roi r, int h, int w, int pooledH, int pooledW, Span<Sample> samples)
    {
        int gh = r.GridH, gw = r.GridW;
        if (r.SamplesPerBin == 0) return;
        int rows = pooledH * gh, cols = pooledW * gw;
        Axis[]? heap = rows + cols > 512 ? new Axis[rows + cols] : null;
        Span<Axis> axes = heap ?? stackalloc Axis[rows + cols];
        Span<Axis> ys = axes[..rows], xs = axes.Slice(rows, cols);
        Axes(r, h, w, pooledH, pooledW, ys, xs);
        int k = 0;
        for (int ph = 0; ph < pooledH; ph++)
            for (int pw = 0; pw < pooledW; pw++)
                for (int iy = 0; iy < gh; iy++)
                {
                    ref readonly Axis y = ref ys[ph * gh + iy];
                    for (int ix = 0; ix < gw; ix++) samples[k++] = Combine(y, xs[pw * gw + ix], w);
                }
    }

    /// <summary>
    /// Each axis's half of every sampling point: ys[ph·grid_h + iy] for the point rows, xs[pw·grid_w + ix] for the
    /// point columns (pooledH · grid_h and pooledW · grid_w entries; nothing when the RoI has no samples).
    /// </summary>
    public static void Axes(in Roi r, int h, int w, int pooledH, int pooledW, Span<Axis> ys, Span<Axis> xs)
    {
        int gh = r.GridH, gw = r.GridW;
        if (r.SamplesPerBin == 0) return;
        for (int ph = 0; ph < pooledH; ph++)
            for (int iy = 0; iy < gh; iy++)
                ys[ph * gh + iy] = Axis.Of(r.StartH + ph * r.BinH + (iy + 0.5f) * r.BinH / gh, h);
        for (int pw = 0; pw < pooledW; pw++)
            for (int ix = 0; ix < gw; ix++)
                xs[pw * gw + ix] = Axis.Of(r.StartW + pw * r.BinW + (ix + 0.5f) * r.BinW / gw, w);
    }

    /// <summary>One coordinate's half of a bilinear sample: its low and high index and weights, or off the map.</summary>
    internal struct Axis
    {
        public int Low, High;
        public float L, H;
        public bool Off;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Axis Of(float v, int size)
        {
            var a = default(Axis);
            if (!(v >= -1f && v <= size))
            {
                a.Off = true;
                return a;
            }
            if (v <= 0) v = 0;
            a.Low = (int)v;
            if (a.Low >= size - 1)
            {
                a.High = a.Low = size - 1;
                v = a.Low;
            }
            else a.High = a.Low + 1;
            a.L = v - a.Low;
            a.H = (float)(1.0 - a.L);
            return a;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Sample Combine(in Axis y, in Axis x, int w)
    {
        var s = default(Sample);
        if (y.Off || x.Off)
        {
            s.OffMap = true;
            return s;
        }
        s.W1 = y.H * x.H; s.W2 = y.H * x.L; s.W3 = y.L * x.H; s.W4 = y.L * x.L;
        s.P1 = y.Low * w + x.Low; s.P2 = y.Low * w + x.High; s.P3 = y.High * w + x.Low; s.P4 = y.High * w + x.High;
        return s;
    }

    /// <summary>The bilinear sample at (y, x); see the class comment for the boundary rules.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Sample Bilinear(float y, float x, int h, int w)
    {
        var s = default(Sample);
        if (!(y >= -1f && y <= h && x >= -1f && x <= w))
        {
            s.OffMap = true;
            return s;
        }
        if (y <= 0) y = 0;
        if (x <= 0) x = 0;
        int yLow = (int)y, xLow = (int)x, yHigh, xHigh;
        if (yLow >= h - 1)
        {
            yHigh = yLow = h - 1;
            y = yLow;
        }
        else yHigh = yLow + 1;
        if (xLow >= w - 1)
        {
            xHigh = xLow = w - 1;
            x = xLow;
        }
        else xHigh = xLow + 1;
        float ly = y - yLow, lx = x - xLow;
        float hy = (float)(1.0 - ly), hx = (float)(1.0 - lx);
        s.W1 = hy * hx; s.W2 = hy * lx; s.W3 = ly * hx; s.W4 = ly * lx;
        s.P1 = yLow * w + xLow; s.P2 = yLow * w + xHigh; s.P3 = yHigh * w + xLow; s.P4 = yHigh * w + xHigh;
        return s;
    }
}
