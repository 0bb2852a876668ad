using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Nanoq.Kernels;

/// <summary>
/// Row loops of the direct depthwise kernels, over a plane laid out as a phase buffer (<see cref="Conv2dPhase"/>
/// with one channel), where tap t of output column ox reads <c>src[offsets[t] + ox]</c> — contiguous in ox for any
/// stride or dilation. Vectorised along the output row; the reads past the row's end stay inside the phase buffer
/// (junk columns or zeroed slack), so only stores and output-gradient loads need tail handling.
/// </summary>
internal static unsafe class DepthwiseConv2dRows
{
    /// <summary>y[ox] = init(ox) + Σ_t w[t]·src[offsets[t] + ox] for ox in [0, width), init = y[ox] (add) or bias.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Correlate(float* src, int* offsets, float* w, int taps, float bias, float* y, int width, bool add)
    {
        var b = Vector512.Create(bias);
        float* tmp = stackalloc float[16];
        int ox = 0;
        for (; ox + 64 <= width; ox += 64)
        {
            Vector512<float> a0, a1, a2, a3;
            if (add)
            {
                a0 = Vector512.Load(y + ox);
                a1 = Vector512.Load(y + ox + 16);
                a2 = Vector512.Load(y + ox + 32);
                a3 = Vector512.Load(y + ox + 48);
            }
            else
            {
                a0 = a1 = a2 = a3 = b;
            }
            for (int t = 0; t < taps; t++)
            {
                var wt = Vector512.Create(w[t]);
                float* s = src + offsets[t] + ox;
                a0 = Vector512.FusedMultiplyAdd(wt, Vector512.Load(s), a0);
                a1 = Vector512.FusedMultiplyAdd(wt, Vector512.Load(s + 16), a1);
                a2 = Vector512.FusedMultiplyAdd(wt, Vector512.Load(s + 32), a2);
                a3 = Vector512.FusedMultiplyAdd(wt, Vector512.Load(s + 48), a3);
            }
            Vector512.Store(a0, y + ox);
            Vector512.Store(a1, y + ox + 16);
            Vector512.Store(a2, y + ox + 32);
            Vector512.Store(a3, y + ox + 48);
        }
        for (; ox < width; ox += 16)
        {
            int lanes = Math.Min(16, width - ox);
            Vector512<float> a;
            if (add)
            {
                for (int l = 0; l < lanes; l++) tmp[l] = y[ox + l];
                a = Vector512.Load(tmp);
            }
            else
            {
                a = b;
            }
            for (int t = 0; t < taps; t++)
                a = Vector512.FusedMultiplyAdd(Vector512.Create(w[t]), Vector512.Load(src + offsets[t] + ox), a);
            if (lanes == 16)
            {
                Vector512.Store(a, y + ox);
            }
            else
            {
                Vector512.Store(a, tmp);
                for (int l = 0; l < lanes; l++) y[ox + l] = tmp[l];
            }
        }
    }

    /// <summary>dst[offsets[t] + ox] += w[t]·dy[ox] for every tap t and ox in [0, width) (the scatter of a strided input gradient).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Scatter(float* dy, int width, int* offsets, float* w, int taps, float* dst)
    {
        for (int t = 0; t < taps; t++)
        {
            var wt = Vector512.Create(w[t]);
            float* d = dst + offsets[t];
            int ox = 0;
            for (; ox + 16 <= width; ox += 16)
                Vector512.Store(Vector512.FusedMultiplyAdd(wt, Vector512.Load(dy + ox), Vector512.Load(d + ox)), d + ox);
            float wv = w[t];
            for (; ox < width; ox++) d[ox] = MathF.FusedMultiplyAdd(wv, dy[ox], d[ox]);
        }
    }

    /// <summary>
    /// acc[t] += Σ_ox dy[ox]·src[offsets[t] + ox] over ox in [0, width), for every tap t: one row's share of the
    /// weight gradient, in 16-lane partial sums (reduced by the caller in a fixed order).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Dot(float* dy, int width, float* src, int* offsets, int taps, Vector512<float>* acc)
    {
        int full = width & ~15;
        int lanes = width - full;
        var tail = Vector512<float>.Zero;
        if (lanes > 0)
        {
            float* tmp = stackalloc float[16];
            for (int l = 0; l < 16; l++) tmp[l] = l < lanes ? dy[full + l] : 0f;
            tail = Vector512.Load(tmp);
        }
        for (int t = 0; t < taps; t++)
        {
            float* s = src + offsets[t];
            var a0 = acc[t];
            var a1 = Vector512<float>.Zero;
            int ox = 0;
            for (; ox + 32 <= full; ox += 32)
            {
                a0 = Vector512.FusedMultiplyAdd(Vector512.Load(dy + ox), Vector512.Load(s + ox), a0);
                a1 = Vector512.FusedMultiplyAdd(Vector512.Load(dy + ox + 16), Vector512.Load(s + ox + 16), a1);
            }
            if (ox < full) a0 = Vector512.FusedMultiplyAdd(Vector512.Load(dy + ox), Vector512.Load(s + ox), a0);
            // Beyond the row the phase buffer is finite, and the tail of dy is zero there.
            if (lanes > 0) a1 = Vector512.FusedMultiplyAdd(tail, Vector512.Load(s + full), a1);
            acc[t] = a0 + a1;
        }
    }
}
