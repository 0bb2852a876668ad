using System.Buffers;
using System.Runtime.CompilerServices;

namespace Nanoq.Kernels;

/// <summary>
/// RoIAlign (He et al., Mask R-CNN) forward and backward: torchvision 0.14's <c>ops.roi_align</c> CPU kernel,
/// value for value in float32 (the geometry is <see cref="RoiAlignSampling"/>).
/// <code>
///   x: [n, c, h, w],  rois: [K, 5] = (batch index, x1, y1, x2, y2) in image pixels  →  y: [K, c, PH, PW]
///   y[k, ch, ph, pw] = (1/count) Σ_{iy &lt; grid_h, ix &lt; grid_w} bilinear(x[b_k, ch], y(ph, iy), x(pw, ix))
/// </code>
/// Each output is an average of bilinear samples, so its weights over input pixels are non-negative and sum to at
/// most 1 (exactly 1 where no sampling point falls off the map): the fact the integer RoIAlign on codes rests on
/// (<see cref="RoiAlignPlanner"/>). Sums run in the C++ order (w1·v1 + w2·v2 + w3·v3 + w4·v4 per point, points in
/// (iy, ix) order, then ÷ count), so results are bit-identical to torchvision's.
///
/// <para>Backward: dx[b, ch, p] += dy[k, ch, ph, pw] · w / count at the four pixels of every sampling point, in
/// torchvision's order (RoI, then bin, then point), so the float sums match too. It overwrites dx. An empty RoI
/// set gives an empty output and a zero gradient.</para>
///
/// Parallelism: forward splits over RoIs (each writes its own rows); backward over channels (each owns its input
/// planes and visits RoIs in order), so both are deterministic whatever the split.
/// </summary>
public static unsafe class RoiAlign
{
    /// <summary>The output shape [K, c, PH, PW] of RoIAlign over <paramref name="numRois"/> RoIs.</summary>
    public static Shape OutputShape(int numRois, int channels, int pooledH, int pooledW) => new(numRois, channels, pooledH, pooledW);

    /// <summary>x: [n, c, h, w], rois: [K, 5] → y: [K, c, pooledH, pooledW] (overwritten).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(ReadOnlySpan<float> x, int n, int c, int h, int w, ReadOnlySpan<float> rois,
        int pooledH, int pooledW, float spatialScale, int samplingRatio, bool aligned, Span<float> y)
    {
        int k = CheckSizes(x.Length, rois.Length, y.Length, n, c, h, w, pooledH, pooledW, "RoiAlign.Forward");
        if (y.Length == 0) return;
        int bins = pooledH * pooledW;
        fixed (float* px = x)
        fixed (float* pr = rois)
        fixed (float* py = y)
        {
            nint ax = (nint)px, ar = (nint)pr, ay = (nint)py;
            WorkSplit.For(k, (long)c * bins * 16, (r0, r1) =>
            {
                RoiAlignSampling.Sample[]? rent = null;
                try
                {
                    for (int r = r0; r < r1; r++)
                    {
                        var roi = RoiAlignSampling.Geometry(new ReadOnlySpan<float>((float*)ar + 5L * r, 5), n, pooledH, pooledW,
                                                            spatialScale, samplingRatio, aligned);
                        int per = roi.SamplesPerBin, total = per * bins;
                        rent = EnsureSamples(rent, total);
                        RoiAlignSampling.Fill(roi, h, w, pooledH, pooledW, rent.AsSpan(0, total));
                        float count = roi.Count;
                        float* yr = (float*)ay + (long)r * c * bins;
                        fixed (RoiAlignSampling.Sample* ps = rent)
                            for (int ch = 0; ch < c; ch++)
                            {
                                float* plane = (float*)ax + ((long)roi.Batch * c + ch) * h * w;
                                float* yc = yr + (long)ch * bins;
                                RoiAlignSampling.Sample* s = ps;
                                for (int b = 0; b < bins; b++)
                                {
                                    float acc = 0f;
                                    for (int i = 0; i < per; i++, s++)
                                        acc += s->W1 * plane[s->P1] + s->W2 * plane[s->P2] + s->W3 * plane[s->P3] + s->W4 * plane[s->P4];
                                    yc[b] = acc / count;
                                }
                            }
                    }
                }
                finally
                {
                    if (rent is not null) ArrayPool<RoiAlignSampling.Sample>.Shared.Return(rent);
                }
            });
        }
    }

    /// <summary>dy: [K, c, pooledH, pooledW], rois: [K, 5] → dx: [n, c, h, w] (overwritten).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(ReadOnlySpan<float> dy, ReadOnlySpan<float> rois, int n, int c, int h, int w,
        int pooledH, int pooledW, float spatialScale, int samplingRatio, bool aligned, Span<float> dx)
    {
        int k = CheckSizes(dx.Length, rois.Length, dy.Length, n, c, h, w, pooledH, pooledW, "RoiAlign.Backward");
        dx.Clear();
        if (dy.Length == 0) return;
        int bins = pooledH * pooledW;
        fixed (float* pg = dy)
        fixed (float* pr = rois)
        fixed (float* pd = dx)
        {
            nint ag = (nint)pg, ar = (nint)pr, ad = (nint)pd;
            WorkSplit.For(c, (long)k * bins * 16, (c0, c1) =>
            {
                RoiAlignSampling.Sample[]? rent = null;
                try
                {
                    for (int r = 0; r < k; r++)
                    {
                        var roi = RoiAlignSampling.Geometry(new ReadOnlySpan<float>((float*)ar + 5L * r, 5), n, pooledH, pooledW,
                                                            spatialScale, samplingRatio, aligned);
                        int per = roi.SamplesPerBin, total = per * bins;
                        if (total == 0) continue;
                        rent = EnsureSamples(rent, total);
                        RoiAlignSampling.Fill(roi, h, w, pooledH, pooledW, rent.AsSpan(0, total));
                        float count = roi.Count;
                        fixed (RoiAlignSampling.Sample* ps = rent)
                            for (int ch = c0; ch < c1; ch++)
                            {
                                float* plane = (float*)ad + ((long)roi.Batch * c + ch) * h * w;
                                float* gc = (float*)ag + ((long)r * c + ch) * bins;
                                RoiAlignSampling.Sample* s = ps;
                                for (int b = 0; b < bins; b++)
                                {
                                    float g = gc[b];
                                    for (int i = 0; i < per; i++, s++)
                                    {
                                        if (s->OffMap) continue;
                                        plane[s->P1] += g * s->W1 / count;
                                        plane[s->P2] += g * s->W2 / count;
                                        plane[s->P3] += g * s->W3 / count;
                                        plane[s->P4] += g * s->W4 / count;
                                    }
                                }
                            }
                    }
                }
                finally
                {
                    if (rent is not null) ArrayPool<RoiAlignSampling.Sample>.Shared.Return(rent);
                }
            });
        }
    }

    private static RoiAlignSampling.Sample[] EnsureSamples(RoiAlignSampling.Sample[]? rent, int total)
    {
        if (rent is not null && rent.Length >= total) return rent;
        if (rent is not null) ArrayPool<RoiAlignSampling.Sample>.Shared.Return(rent);
        return ArrayPool<RoiAlignSampling.Sample>.Shared.Rent(Math.Max(total, 1));
    }

    /// <summary>Checks the sizes; returns K, the number of RoIs.</summary>
    internal static int CheckSizes(int xLength, int roisLength, int yLength, int n, int c, int h, int w, int pooledH, int pooledW, string op)
    {
        if (n < 0 || c < 0 || h <= 0 || w <= 0 || pooledH <= 0 || pooledW <= 0)
            throw new ArgumentException($"{op}: sizes n={n}, c={c}, h={h}, w={w}, pooled {pooledH}x{pooledW} must be positive (n, c non-negative).");
        if (xLength != (long)n * c * h * w)
            throw new ArgumentException($"{op}: the feature map has {xLength} elements, [{n}, {c}, {h}, {w}] needs {(long)n * c * h * w}.");
        if (roisLength % 5 != 0) throw new ArgumentException($"{op}: rois must be [K, 5] (batch index, x1, y1, x2, y2); got {roisLength} floats.");
        int k = roisLength / 5;
        if (yLength != (long)k * c * pooledH * pooledW)
            throw new ArgumentException($"{op}: the output has {yLength} elements, [{k}, {c}, {pooledH}, {pooledW}] needs {(long)k * c * pooledH * pooledW}.");
        return k;
    }
}
