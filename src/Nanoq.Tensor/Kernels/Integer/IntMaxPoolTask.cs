using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Nanoq.Kernels.Integer;

/// <summary>
/// A run of planes of <see cref="IntPooling.MaxPool2d"/> (part <c>task</c> of <see cref="Parts"/>). Per output row:
/// <list type="number">
/// <item>m = the elementwise max of the window's input rows (those in bounds), 64 codes at a time (a last, overlapping
/// vector for the tail: max is idempotent);</item>
/// <item>t[j] = max_k m[j − p_w + k] for every window start j — m sits in a row of zeros, which stand for the padding:
/// codes are ≥ 0 and every window holds a real element (PyTorch's p ≤ k/2), so a 0 never wins over it;</item>
/// <item>y[ox] = t[ox·s_w]: t itself at stride 1, its even bytes at stride 2 (narrowing 16-bit lanes), picked one by
/// one otherwise.</item>
/// </list>
/// Tasks write disjoint planes. Pointers are pinned by the caller.
/// </summary>
internal unsafe struct IntMaxPoolTask : IParallelBody
{
    public byte* X, Y;
    public int Planes, Parts, Height, Width, OutHeight, OutWidth, KernelH, KernelW, StrideH, StrideW, PadH, PadW;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Invoke(int task)
    {
        int first = (int)((long)Planes * task / Parts), end = (int)((long)Planes * (task + 1) / Parts);
        int w = Width, ow = OutWidth, s = StrideW, pw = PadW;
        bool vector = Simd.IsVector && (s == 1 || s == 2), wide = Simd.Is512;
        // t is computed for starts [0, tLength): at stride 2 two vectors of t give 64 outputs.
        int tLength = s == 2 ? 2 * RoundUp(ow) : RoundUp((ow - 1) * s + 1);
        // The row: p_w zeros, m (w codes), zeros up to every position a window start below tLength reads, and a vector more.
        int rowLength = pw + (w > tLength + KernelW ? w : tLength + KernelW) + 64;
        int scratch = rowLength + tLength + 64;
        byte[]? heap = scratch > 16384 ? new byte[scratch] : null;
        Span<byte> buffer = heap ?? stackalloc byte[scratch];
        buffer.Clear();
        fixed (byte* b = buffer)
        {
            byte* m = b + pw, t = b + rowLength, last = t + tLength;   // last: one vector for a partial last block of outputs
            for (int plane = first; plane < end; plane++)
            {
                byte* x = X + (long)plane * Height * w;
                byte* y = Y + (long)plane * OutHeight * ow;
                for (int oy = 0; oy < OutHeight; oy++)
                {
                    int y0 = oy * StrideH - PadH, y1 = y0 + KernelH;
                    if (y0 < 0) y0 = 0;
                    if (y1 > Height) y1 = Height;
                    Buffer.MemoryCopy(x + (long)y0 * w, m, w, w);
                    for (int iy = y0 + 1; iy < y1; iy++) MaxInto(m, x + (long)iy * w, w);
                    byte* yr = y + (long)oy * ow;
                    if (!vector)
                    {
                        for (int ox = 0; ox < ow; ox++)
                        {
                            byte* win = m + ox * s - pw;
                            byte v = 0;
                            for (int k = 0; k < KernelW; k++) if (win[k] > v) v = win[k];
                            yr[ox] = v;
                        }
                        continue;
                    }
                    if (wide)
                        for (int j = 0; j < tLength; j += 64)
                        {
                            var v = Vector512.Load(m + j - pw);
                            for (int k = 1; k < KernelW; k++) v = Vector512.Max(v, Vector512.Load(m + j - pw + k));
                            v.Store(t + j);
                        }
                    else
                        for (int j = 0; j < tLength; j += 32)   // AVX2: the same blocks of 64 as two vectors of 32
                        {
                            var v = Vector256.Load(m + j - pw);
                            for (int k = 1; k < KernelW; k++) v = Vector256.Max(v, Vector256.Load(m + j - pw + k));
                            v.Store(t + j);
                        }
                    if (s == 1)
                    {
                        Buffer.MemoryCopy(t, yr, ow, ow);
                        continue;
                    }
                    for (int o = 0; o < ow; o += 64)
                    {
                        byte* dst = o + 64 <= ow ? yr + o : last;
                        if (wide) Vector512.Narrow(Vector512.Load(t + 2 * o).AsUInt16(), Vector512.Load(t + 2 * o + 64).AsUInt16()).Store(dst);
                        else
                        {
                            Vector256.Narrow(Vector256.Load(t + 2 * o).AsUInt16(), Vector256.Load(t + 2 * o + 32).AsUInt16()).Store(dst);
                            Vector256.Narrow(Vector256.Load(t + 2 * o + 64).AsUInt16(), Vector256.Load(t + 2 * o + 96).AsUInt16()).Store(dst + 32);
                        }
                        if (dst == last) Buffer.MemoryCopy(last, yr + o, ow - o, ow - o);
                    }
                }
            }
        }
    }

    private static int RoundUp(int n) => (n + 63) & ~63;

    /// <summary>m[i] = max(m[i], r[i]) for i &lt; w, a vector at a time (64 or 32 codes by the level, or 16 for short rows); the tail by one
    /// more vector ending at w.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MaxInto(byte* m, byte* r, int w)
    {
        if (Simd.Is512 && w >= 64)
        {
            int i = 0;
            for (; i + 64 <= w; i += 64) Vector512.Max(Vector512.Load(m + i), Vector512.Load(r + i)).Store(m + i);
            if (i < w) Vector512.Max(Vector512.Load(m + w - 64), Vector512.Load(r + w - 64)).Store(m + w - 64);
        }
        else if (Simd.IsVector && w >= 32)
        {
            int i = 0;
            for (; i + 32 <= w; i += 32) Vector256.Max(Vector256.Load(m + i), Vector256.Load(r + i)).Store(m + i);
            if (i < w) Vector256.Max(Vector256.Load(m + w - 32), Vector256.Load(r + w - 32)).Store(m + w - 32);
        }
        else if (Vector128.IsHardwareAccelerated && w >= 16)
        {
            int i = 0;
            for (; i + 16 <= w; i += 16) Vector128.Max(Vector128.Load(m + i), Vector128.Load(r + i)).Store(m + i);
            if (i < w) Vector128.Max(Vector128.Load(m + w - 16), Vector128.Load(r + w - 16)).Store(m + w - 16);
        }
        else
            for (int i = 0; i < w; i++) if (r[i] > m[i]) m[i] = r[i];
    }
}
