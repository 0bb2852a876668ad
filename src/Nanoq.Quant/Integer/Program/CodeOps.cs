using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Nanoq.Kernels.Integer;

namespace Nanoq.Quant.Integer.Program;

/// <summary>
/// The code kernels of the ops that keep their input's grid (Δ, z) — why each is exact:
/// <list type="bullet">
/// <item>max pooling: quantization is monotone, so the max of the codes is the code of the max;</item>
/// <item>nearest upsampling, concatenation, flattening: copies;</item>
/// <item>ReLU: real 0 is the code z, so max(x, 0) is max(q, z) on the same grid.</item>
/// </list>
/// </summary>
public static class CodeOps
{
    /// <summary>
    /// k×k max pooling with stride s and padding p (padding never wins: PyTorch pads with −∞), as
    /// <see cref="IntPooling.MaxPool2d"/> computes it, but separably: the max over the window's rows first (whole rows at
    /// a time, vectorized), then over its columns — the same maximum, since max is associative and the window is a
    /// rectangle clipped to the image. Why not the kernel itself: its scalar 9-tap loop took ~15% of a batch-8 integer
    /// forward at 160 px; this takes a fraction of that (tests check both give the same codes).
    /// </summary>
    public static CodeTensor MaxPool(CodeTensor x, int kernel, int stride, int padding, CodeArena arena)
    {
        if (kernel < 1 || stride < 1 || padding < 0 || 2 * padding > kernel)
            throw new ArgumentException($"MaxPool: kernel {kernel}, stride {stride}, padding {padding} (padding at most half the kernel).");
        int h = x.Height, w = x.Width;
        int oh = IntPooling.OutputSize(h, kernel, stride, padding), ow = IntPooling.OutputSize(w, kernel, stride, padding);
        if (oh < 1 || ow < 1) throw new ArgumentException($"MaxPool: kernel {kernel} does not fit {x.ShapeText} with padding {padding}.");
        var y = arena.Rent([x.Batch, x.Channels, oh, ow], x.ZeroPoint, x.Bits);
        var rows = arena.Rent(w);
        for (int plane = 0; plane < x.Batch * x.Channels; plane++)
        {
            var src = x.Data.AsSpan(plane * h * w, h * w);
            var dst = y.Data.AsSpan(plane * oh * ow, oh * ow);
            for (int oy = 0; oy < oh; oy++)
            {
                int y0 = IntMath.Max(oy * stride - padding, 0), y1 = IntMath.Min(oy * stride - padding + kernel, h);
                var m = rows.AsSpan();
                if (y1 - y0 == 1) src.Slice(y0 * w, w).CopyTo(m);
                else
                {
                    MaxRows(src.Slice(y0 * w, w), src.Slice((y0 + 1) * w, w), m);
                    for (int iy = y0 + 2; iy < y1; iy++) MaxRows(m, src.Slice(iy * w, w), m);
                }
                var o = dst.Slice(oy * ow, ow);
                int ox = 0;
                // Windows that lie inside the row need no clipping: [ox·s − p, ox·s − p + k) ⊂ [0, w).
                int first = (padding + stride - 1) / stride, last = IntMath.Min(ow, (w - kernel + padding) / stride + 1);
                for (; ox < first && ox < ow; ox++) o[ox] = ClippedMax(m, ox * stride - padding, kernel);
                if (kernel == 3 && stride == 2 && Avx512BW.IsSupported)
                {
                    // 32 outputs a step: the dense 3-wide max of 64 positions, then its even bytes (vpmovwb keeps the
                    // low byte of each 16-bit lane) — the windows start at every second position.
                    ref byte rm = ref MemoryMarshal.GetReference(m);
                    ref byte ro = ref MemoryMarshal.GetReference(o);
                    for (int i = ox * 2 - padding; ox + 32 <= last && i + 66 <= w; ox += 32, i += 64)
                    {
                        var d = Vector512.Max(Vector512.Max(Vector512.LoadUnsafe(ref rm, (nuint)i), Vector512.LoadUnsafe(ref rm, (nuint)(i + 1))),
                                              Vector512.LoadUnsafe(ref rm, (nuint)(i + 2)));
                        Avx512BW.ConvertToVector256Byte(d.AsUInt16()).StoreUnsafe(ref ro, (nuint)ox);
                    }
                }
                if (kernel == 3)
                    for (int i = ox * stride - padding; ox < last; ox++, i += stride)
                    {
                        byte a = m[i], b = m[i + 1], c = m[i + 2];
                        if (b > a) a = b;
                        o[ox] = c > a ? c : a;
                    }
                else
                    for (; ox < last; ox++) o[ox] = ClippedMax(m, ox * stride - padding, kernel);
                for (; ox < ow; ox++) o[ox] = ClippedMax(m, ox * stride - padding, kernel);
            }
        }
        return y;
    }

    /// <summary>d = max(a, b) element-wise, 32 codes a step (the last step overlaps the one before; d may alias a).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MaxRows(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, Span<byte> d)
    {
        int n = d.Length;
        if (n < 32)
        {
            for (int i = 0; i < n; i++) d[i] = a[i] > b[i] ? a[i] : b[i];
            return;
        }
        ref byte ra = ref MemoryMarshal.GetReference(a), rb = ref MemoryMarshal.GetReference(b), rd = ref MemoryMarshal.GetReference(d);
        for (int i = 0; ; i += 32)
        {
            if (i > n - 32) i = n - 32;
            Vector256.Max(Vector256.LoadUnsafe(ref ra, (nuint)i), Vector256.LoadUnsafe(ref rb, (nuint)i)).StoreUnsafe(ref rd, (nuint)i);
            if (i == n - 32) return;
        }
    }

    /// <summary>max of m[start .. start + kernel) clipped to the row.</summary>
    private static byte ClippedMax(ReadOnlySpan<byte> m, int start, int kernel)
    {
        int x0 = IntMath.Max(start, 0), x1 = IntMath.Min(start + kernel, m.Length);
        byte v = m[x0];
        for (int i = x0 + 1; i < x1; i++) if (m[i] > v) v = m[i];
        return v;
    }

}
