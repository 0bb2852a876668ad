using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nanoq.Kernels.Integer;

/// <summary>
/// The direct integer kernel for depthwise convolution (groups = C_in = C_out, weight [C, 1, KH, KW]): a GEMM would
/// have one output channel per group, so each plane is convolved on its own. Per (image, channel): copy the plane into a
/// padded buffer bordered with z_x, then
/// <code>
///     acc[q] = offset[c] + Σ_t (w_q[c, t] − z_w[c]) · x_pad[q + off_t]      (int32 lanes: exact for any k ≤ 8)
/// </code>
/// over q = oy·Wp + ox for stride 1 (16 positions a vector, columns past OW dropped); other strides take 16 outputs of a
/// row at a time with byte gathers (<c>vpgatherdd</c> at byte offsets, low byte kept). offset[c] = bias[c] − z_x·Σ_t
/// (w_q − z_w[c]). 512-bit, or as two 256-bit halves (<see cref="Simd.Level"/>).
/// </summary>
internal unsafe struct IntDepthwiseConv2d : IParallelBody
{
    public byte* X, Y;
    public int* AccOut, Offsets, TapOffsets;
    public IntConv2dWeights Weights;
    public Requantization? Rq;
    public int Channels, Height, Width, PadH, PadW, Hp, Wp, OutHeight, OutWidth, StrideH, StrideW, Taps, ZeroPoint;
    public int PlaneBytes;

    public static void Run(in Conv2dGeometry g, byte* x, int zx, IntConv2dWeights w, int* offsets, Requantization? rq, byte* y, int* accOut)
    {
        int hp = g.Height + 2 * g.PadH, wp = g.Width + 2 * g.PadW;
        int taps = g.KernelH * g.KernelW;
        int* tapOffsets = offsets + g.OutChannels;
        int maxOffset = 0;
        for (int ky = 0; ky < g.KernelH; ky++)
            for (int kx = 0; kx < g.KernelW; kx++)
            {
                int off = ky * g.DilationH * wp + kx * g.DilationW;
                tapOffsets[ky * g.KernelW + kx] = off;
                if (off > maxOffset) maxOffset = off;
            }
        long plane = (long)hp * wp;
        long vectorEnd = ((long)g.OutHeight * wp + 15) / 16 * 16 + maxOffset;
        if (vectorEnd > plane) plane = vectorEnd;
        // Strided: a row's last vector gathers up to 15 positions past OW, 4 bytes each.
        long gatherEnd = (long)(g.OutHeight - 1) * g.StrideH * wp + (long)((g.OutWidth + 15) / 16 * 16) * g.StrideW + maxOffset + 4;
        if (gatherEnd > plane) plane = gatherEnd;
        plane = (plane + 63) & ~63L;
        var task = new IntDepthwiseConv2d
        {
            X = x, Y = y, AccOut = accOut, Offsets = offsets, TapOffsets = tapOffsets, Weights = w, Rq = rq,
            Channels = g.InChannels, Height = g.Height, Width = g.Width, PadH = g.PadH, PadW = g.PadW, Hp = hp, Wp = wp,
            OutHeight = g.OutHeight, OutWidth = g.OutWidth, StrideH = g.StrideH, StrideW = g.StrideW, Taps = taps,
            ZeroPoint = zx, PlaneBytes = (int)plane,
        };
        ParallelRunner.Run(g.Batch * g.InChannels, ref task);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Invoke(int task)
    {
        int c = task % Channels;
        var scratch = IntScratch.Current;
        byte* pad = (byte*)scratch.Get(IntScratch.Plane, PlaneBytes / 4 + 16);
        int* tile = scratch.Get(IntScratch.AccTile, 16);
        new Span<byte>(pad, PlaneBytes).Fill((byte)ZeroPoint);
        byte* src = X + (long)task * Height * Width;
        for (int iy = 0; iy < Height; iy++)
            Unsafe.CopyBlockUnaligned(pad + (long)(PadH + iy) * Wp + PadW, src + (long)iy * Width, (uint)Width);

        int* wc = stackalloc int[Taps];
        var centered = Weights.Centered;
        for (int t = 0; t < Taps; t++) wc[t] = centered[c * Taps + t];
        int offset = Offsets[c];
        long outBase = (long)task * OutHeight * OutWidth;

        if (!Simd.Is512)
        {
            Invoke256(task, c, pad, tile, wc, offset, outBase);
            return;
        }
        if (StrideH == 1 && StrideW == 1)
        {
            int positions = OutHeight * Wp;
            var vo = Vector512.Create(offset);
            for (int q = 0; q < positions; q += 16)
            {
                var acc = vo;
                for (int t = 0; t < Taps; t++)
                    acc += Avx512F.MultiplyLow(Avx512F.ConvertToVector512Int32(Vector128.Load(pad + q + TapOffsets[t])), Vector512.Create(wc[t]));
                int end = q + 16 < positions ? q + 16 : positions;
                if (AccOut != null)
                {
                    acc.Store(tile);
                    CopyValid(tile, AccOut + outBase, q, end);
                }
                else
                {
                    var v = Rq!.Apply(acc, 0, c);
                    Avx512F.ConvertToVector128Byte(v).Store((byte*)tile);
                    CopyValid((byte*)tile, Y + outBase, q, end);
                }
            }
            return;
        }

        var lanes = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7) * StrideW;
        var lowByte = Vector512.Create(0xFF);
        var offsetV = Vector512.Create(offset);
        for (int oy = 0; oy < OutHeight; oy++)
        {
            int rowBase = oy * StrideH * Wp;
            for (int ox = 0; ox < OutWidth; ox += 16)
            {
                var i0 = lanes + Vector256.Create(rowBase + ox * StrideW);
                var i1 = i0 + Vector256.Create(8 * StrideW);
                var acc = offsetV;
                for (int t = 0; t < Taps; t++)
                {
                    int* at = (int*)(pad + TapOffsets[t]);
                    var v = Vector512.Create(Avx2.GatherVector256(at, i0, 1), Avx2.GatherVector256(at, i1, 1)) & lowByte;
                    acc += Avx512F.MultiplyLow(v, Vector512.Create(wc[t]));
                }
                int count = OutWidth - ox < 16 ? OutWidth - ox : 16;
                long i = outBase + (long)oy * OutWidth + ox;
                if (AccOut != null)
                {
                    acc.Store(tile);
                    for (int j = 0; j < count; j++) AccOut[i + j] = tile[j];
                }
                else
                {
                    Avx512F.ConvertToVector128Byte(Rq!.Apply(acc, 0, c)).Store((byte*)tile);
                    for (int j = 0; j < count; j++) Y[i + j] = ((byte*)tile)[j];
                }
            }
        }
    }

    /// <summary>The 256-bit (AVX2) form of the two loops above: each block of 16 positions as two vectors of 8 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Invoke256(int task, int c, byte* pad, int* tile, int* wc, int offset, long outBase)
    {
        var vo = Vector256.Create(offset);
        if (StrideH == 1 && StrideW == 1)
        {
            int positions = OutHeight * Wp;
            for (int q = 0; q < positions; q += 16)
            {
                Vector256<int> lo = vo, hi = vo;
                for (int t = 0; t < Taps; t++)
                {
                    byte* p = pad + q + TapOffsets[t];
                    var w = Vector256.Create(wc[t]);
                    lo += Avx2.MultiplyLow(Avx2.ConvertToVector256Int32(p), w);
                    hi += Avx2.MultiplyLow(Avx2.ConvertToVector256Int32(p + 8), w);
                }
                int end = q + 16 < positions ? q + 16 : positions;
                if (AccOut != null)
                {
                    lo.Store(tile);
                    hi.Store(tile + 8);
                    CopyValid(tile, AccOut + outBase, q, end);
                }
                else
                {
                    Narrow.ToBytes(Rq!.Apply(lo, 0, c), Rq!.Apply(hi, 0, c)).Store((byte*)tile);
                    CopyValid((byte*)tile, Y + outBase, q, end);
                }
            }
            return;
        }

        var lanes = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7) * StrideW;
        var lowByte = Vector256.Create(0xFF);
        for (int oy = 0; oy < OutHeight; oy++)
        {
            int rowBase = oy * StrideH * Wp;
            for (int ox = 0; ox < OutWidth; ox += 16)
            {
                var i0 = lanes + Vector256.Create(rowBase + ox * StrideW);
                var i1 = i0 + Vector256.Create(8 * StrideW);
                Vector256<int> lo = vo, hi = vo;
                for (int t = 0; t < Taps; t++)
                {
                    int* at = (int*)(pad + TapOffsets[t]);
                    var w = Vector256.Create(wc[t]);
                    lo += Avx2.MultiplyLow(Avx2.GatherVector256(at, i0, 1) & lowByte, w);
                    hi += Avx2.MultiplyLow(Avx2.GatherVector256(at, i1, 1) & lowByte, w);
                }
                int count = OutWidth - ox < 16 ? OutWidth - ox : 16;
                long i = outBase + (long)oy * OutWidth + ox;
                if (AccOut != null)
                {
                    lo.Store(tile);
                    hi.Store(tile + 8);
                    for (int j = 0; j < count; j++) AccOut[i + j] = tile[j];
                }
                else
                {
                    Narrow.ToBytes(Rq!.Apply(lo, 0, c), Rq!.Apply(hi, 0, c)).Store((byte*)tile);
                    for (int j = 0; j < count; j++) Y[i + j] = ((byte*)tile)[j];
                }
            }
        }
    }

    /// <summary>Copies positions [q, end) of the padded-width grid that are real outputs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CopyValid<T>(T* src, T* dst, int q0, int end) where T : unmanaged
    {
        int q = q0;
        int oy = q / Wp, ox = q - oy * Wp;
        while (q < end)
        {
            int run = Wp - ox < end - q ? Wp - ox : end - q;
            if (ox < OutWidth)
            {
                int count = OutWidth - ox < run ? OutWidth - ox : run;
                for (int i = 0; i < count; i++) dst[(long)oy * OutWidth + ox + i] = src[q - q0 + i];
            }
            q += run;
            oy++;
            ox = 0;
        }
    }
}
