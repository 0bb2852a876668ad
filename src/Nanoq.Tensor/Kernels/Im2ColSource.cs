using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Nanoq.Kernels;

/// <summary>
/// One image (one group of its channels) seen as its im2col matrix without materialising it:
/// <code>col[kk, q] = x[c, oy·SH − PH + ky·DH, ox·SW − PW + kx·DW]   (0 outside the image)
///   kk = (c·KH + ky)·KW + kx  in [0, C·KH·KW),   q = oy·OW + ox  in [0, OH·OW)</code>
/// <see cref="Row"/> writes a run of one row of it (what the GEMM packers need), <see cref="AddRow"/> scatters a
/// run back (col2im). Padding may be negative (a crop) — the bounds checks do not care.
/// </summary>
internal readonly unsafe struct Im2ColSource
{
    public readonly float* X;
    public readonly int H, W, KH, KW, SH, SW, PH, PW, DH, DW, OW;

    public Im2ColSource(float* x, in Conv2dGeometry g)
    {
        X = x;
        H = g.Height;
        W = g.Width;
        KH = g.KernelH;
        KW = g.KernelW;
        SH = g.StrideH;
        SW = g.StrideW;
        PH = g.PadH;
        PW = g.PadW;
        DH = g.DilationH;
        DW = g.DilationW;
        OW = g.OutWidth;
    }

    /// <summary>dst[t] = col[kk, q0 + t] for t in [0, count).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Row(int kk, int q0, int count, float* dst)
    {
        int taps = KH * KW;
        int c = kk / taps, r = kk - c * taps;
        int ky = r / KW, kx = r - ky * KW;
        float* plane = X + (long)c * H * W;
        int yOff = ky * DH - PH, xOff = kx * DW - PW;
        int oy = q0 / OW, ox = q0 - oy * OW;
        while (count > 0)
        {
            int seg = Math.Min(OW - ox, count);
            int iy = oy * SH + yOff;
            if ((uint)iy >= (uint)H)
            {
                Zero(dst, seg);
            }
            else
            {
                float* src = plane + (long)iy * W;
                if (SW == 1)
                {
                    // ix = ox + t + xOff is inside [0, W) for t in [lo, hi).
                    int lo = Math.Clamp(-xOff - ox, 0, seg);
                    int hi = Math.Clamp(W - xOff - ox, lo, seg);
                    Zero(dst, lo);
                    Copy(src + ox + xOff + lo, dst + lo, hi - lo);
                    Zero(dst + hi, seg - hi);
                }
                else
                {
                    int ix = ox * SW + xOff;
                    for (int t = 0; t < seg; t++, ix += SW) dst[t] = (uint)ix < (uint)W ? src[ix] : 0f;
                }
            }
            dst += seg;
            count -= seg;
            oy++;
            ox = 0;
        }
    }

    /// <summary>col2im: x[c, iy, ix] += src[t] for the pixels of col[kk, q0 + t] that fall inside the image.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void AddRow(int kk, int q0, int count, float* src)
    {
        int taps = KH * KW;
        int c = kk / taps, r = kk - c * taps;
        int ky = r / KW, kx = r - ky * KW;
        float* plane = X + (long)c * H * W;
        int yOff = ky * DH - PH, xOff = kx * DW - PW;
        int oy = q0 / OW, ox = q0 - oy * OW;
        while (count > 0)
        {
            int seg = Math.Min(OW - ox, count);
            int iy = oy * SH + yOff;
            if ((uint)iy < (uint)H)
            {
                float* dst = plane + (long)iy * W;
                if (SW == 1)
                {
                    int lo = Math.Clamp(-xOff - ox, 0, seg);
                    int hi = Math.Clamp(W - xOff - ox, lo, seg);
                    Add(src + lo, dst + ox + xOff + lo, hi - lo);
                }
                else
                {
                    int ix = ox * SW + xOff;
                    for (int t = 0; t < seg; t++, ix += SW)
                        if ((uint)ix < (uint)W) dst[ix] += src[t];
                }
            }
            src += seg;
            count -= seg;
            oy++;
            ox = 0;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Zero(float* dst, int n)
    {
        int i = 0;
        for (; i + 16 <= n; i += 16) Vector512.Store(Vector512<float>.Zero, dst + i);
        for (; i < n; i++) dst[i] = 0f;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Copy(float* src, float* dst, int n)
    {
        int i = 0;
        for (; i + 16 <= n; i += 16) Vector512.Store(Vector512.Load(src + i), dst + i);
        if (i + 8 <= n)
        {
            Vector256.Store(Vector256.Load(src + i), dst + i);
            i += 8;
        }
        for (; i < n; i++) dst[i] = src[i];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Add(float* src, float* dst, int n)
    {
        int i = 0;
        for (; i + 16 <= n; i += 16) Vector512.Store(Vector512.Load(dst + i) + Vector512.Load(src + i), dst + i);
        for (; i < n; i++) dst[i] += src[i];
    }
}
