using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Nanoq.Kernels.Integer;

/// <summary>
/// A run of planes of <see cref="IntPooling.MaxPool2d"/> (part <c>task</c> of <see cref="Parts"/>): for each output row,
/// the elementwise max of the window's input rows (in bounds) into one row, 64 codes at a time, then each output the
/// max of its window's columns (in bounds) in that row. Codes are ≥ 0 and every window holds a real element, so a
/// running max from 0 is the max. Tasks write disjoint planes. Pointers are pinned by the caller.
/// </summary>
internal unsafe struct IntMaxPoolTask : IParallelBody
{
    public byte* X, Y;
    public int Planes, Parts, Height, Width, OutHeight, OutWidth, KernelH, KernelW, StrideH, StrideW, PadH, PadW;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Invoke(int task)
    {
        int first = (int)((long)Planes * task / Parts), end = (int)((long)Planes * (task + 1) / Parts);
        int w = Width;
        byte[]? heap = w > 4096 ? new byte[w] : null;
        Span<byte> rowMax = heap ?? stackalloc byte[w];
        fixed (byte* m = rowMax)
            for (int plane = first; plane < end; plane++)
            {
                byte* x = X + (long)plane * Height * w;
                byte* y = Y + (long)plane * OutHeight * OutWidth;
                for (int oy = 0; oy < OutHeight; oy++)
                {
                    int y0 = oy * StrideH - PadH, y1 = y0 + KernelH;
                    if (y0 < 0) y0 = 0;
                    if (y1 > Height) y1 = Height;
                    Buffer.MemoryCopy(x + (long)y0 * w, m, w, w);
                    for (int iy = y0 + 1; iy < y1; iy++)
                    {
                        byte* r = x + (long)iy * w;
                        int i = 0;
                        if (Vector512.IsHardwareAccelerated)
                            for (; i + 64 <= w; i += 64) Vector512.Max(Vector512.Load(m + i), Vector512.Load(r + i)).Store(m + i);
                        for (; i < w; i++) if (r[i] > m[i]) m[i] = r[i];
                    }
                    byte* yr = y + (long)oy * OutWidth;
                    for (int ox = 0; ox < OutWidth; ox++)
                    {
                        int x0 = ox * StrideW - PadW, x1 = x0 + KernelW;
                        if (x0 < 0) x0 = 0;
                        if (x1 > w) x1 = w;
                        byte v = 0;
                        for (int ix = x0; ix < x1; ix++) if (m[ix] > v) v = m[ix];
                        yr[ox] = v;
                    }
                }
            }
    }
}
