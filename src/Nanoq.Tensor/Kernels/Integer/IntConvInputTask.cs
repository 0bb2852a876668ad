using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nanoq.Kernels.Integer;

/// <summary>
/// Builds the interleaved, padded input of <see cref="IntConv2d"/> for one (image, group, channel unit): a plane of
/// Hp × Wp int32 units (Hp = H + 2·pad_h, Wp = W + 2·pad_w, then slack up to <see cref="PlaneUnits"/>), each unit U input
/// channels of one pixel — 4 bytes for the u8 paths, 2 zero-extended int16 for <see cref="IntConvPath.Int16"/>. Padding
/// and channels past C_in / groups hold the code z_x, so the conv reads exact zeros there with no bounds checks.
/// The unit layout matches the packed weights, which is what lets one <c>vpmaddubsw</c> / <c>vpdpbusd</c> / <c>vpmaddwd</c>
/// lane multiply U channels of one pixel by U weights.
/// </summary>
internal unsafe struct IntConvInputTask : IParallelBody
{
    public byte* X;
    public int* Units;
    public int Groups, InChannels, GroupInChannels, Height, Width, PadH, PadW, Hp, Wp;
    public int UnitChannels, ChannelUnits;
    /// <summary>Units of one packed (image, group, unit) plane: Hp·Wp and the slack filled with z.</summary>
    public long PlaneUnits;
    /// <summary>Where (image·groups + group) and channel unit cu start: ImageStride·(n·G + g) + UnitStride·cu.</summary>
    public long ImageStride, UnitStride;
    public int ZeroPoint;
    /// <summary>Codes must stay ≤ this (all-ones low bits); checked only when <see cref="CheckMax"/>.</summary>
    public int MaxCode;
    public bool CheckMax;
    /// <summary>Batch index of the chunk's first image (for error messages).</summary>
    public int ImageBase;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Invoke(int task)
    {
        int cu = task % ChannelUnits;
        int ng = task / ChannelUnits;
        int n = ng / Groups, g = ng % Groups;
        int* dst = Units + ng * ImageStride + cu * UnitStride;
        int u = UnitChannels;
        int z = ZeroPoint;
        int zunit = u == 4 ? z * 0x01010101 : z | (z << 16);
        int w = Width;

        // Channels past the group's end read a row of z codes.
        byte* zrow = (byte*)IntScratch.Current.Get(IntScratch.ByteTile, (w + 3) / 4 + 16);
        new Span<byte>(zrow, w).Fill((byte)z);
        byte* s0 = zrow, s1 = zrow, s2 = zrow, s3 = zrow;
        long planeIn = (long)Height * w;
        byte* xg = X + ((long)n * InChannels + (long)g * GroupInChannels) * planeIn;
        int c0 = cu * u;
        if (c0 < GroupInChannels) s0 = xg + c0 * planeIn;
        if (c0 + 1 < GroupInChannels) s1 = xg + (c0 + 1) * planeIn;
        if (u == 4 && c0 + 2 < GroupInChannels) s2 = xg + (c0 + 2) * planeIn;
        if (u == 4 && c0 + 3 < GroupInChannels) s3 = xg + (c0 + 3) * planeIn;
        long rowStep0 = s0 == zrow ? 0 : w, rowStep1 = s1 == zrow ? 0 : w, rowStep2 = s2 == zrow ? 0 : w, rowStep3 = s3 == zrow ? 0 : w;

        new Span<int>(dst, PadH * Wp).Fill(zunit);
        int seen = 0;
        var seenV = Vector512<int>.Zero;
        var seen8 = Vector256<int>.Zero;
        for (int iy = 0; iy < Height; iy++)
        {
            int* row = dst + (long)(PadH + iy) * Wp;
            new Span<int>(row, PadW).Fill(zunit);
            int* r = row + PadW;
            byte* r0 = s0 + iy * rowStep0, r1 = s1 + iy * rowStep1, r2 = s2 + iy * rowStep2, r3 = s3 + iy * rowStep3;
            int ix = 0;
            if (!Simd.Is512)
            {
                // AVX2: 8 pixels a vector (vpmovzxbd from memory); the same units.
                if (u == 4)
                    for (; ix + 8 <= w; ix += 8)
                    {
                        var v = Avx2.ConvertToVector256Int32(r0 + ix)
                            | Avx2.ShiftLeftLogical(Avx2.ConvertToVector256Int32(r1 + ix), 8)
                            | Avx2.ShiftLeftLogical(Avx2.ConvertToVector256Int32(r2 + ix), 16)
                            | Avx2.ShiftLeftLogical(Avx2.ConvertToVector256Int32(r3 + ix), 24);
                        v.Store(r + ix);
                        seen8 |= v;
                    }
                else
                    for (; ix + 8 <= w; ix += 8)
                        (Avx2.ConvertToVector256Int32(r0 + ix) | Avx2.ShiftLeftLogical(Avx2.ConvertToVector256Int32(r1 + ix), 16)).Store(r + ix);
            }
            if (u == 4)
            {
                for (; ix + 16 <= w; ix += 16)
                {
                    var v = Avx512F.ConvertToVector512Int32(Vector128.Load(r0 + ix))
                        | Avx512F.ShiftLeftLogical(Avx512F.ConvertToVector512Int32(Vector128.Load(r1 + ix)), 8)
                        | Avx512F.ShiftLeftLogical(Avx512F.ConvertToVector512Int32(Vector128.Load(r2 + ix)), 16)
                        | Avx512F.ShiftLeftLogical(Avx512F.ConvertToVector512Int32(Vector128.Load(r3 + ix)), 24);
                    v.Store(r + ix);
                    seenV |= v;
                }
                for (; ix < w; ix++)
                {
                    int v = r0[ix] | (r1[ix] << 8) | (r2[ix] << 16) | (r3[ix] << 24);
                    r[ix] = v;
                    seen |= v;
                }
            }
            else
            {
                for (; ix + 16 <= w; ix += 16)
                {
                    var v = Avx512F.ConvertToVector512Int32(Vector128.Load(r0 + ix))
                        | Avx512F.ShiftLeftLogical(Avx512F.ConvertToVector512Int32(Vector128.Load(r1 + ix)), 16);
                    v.Store(r + ix);
                }
                for (; ix < w; ix++) r[ix] = r0[ix] | (r1[ix] << 16);
            }
            new Span<int>(r + w, PadW).Fill(zunit);
        }
        long done = (long)(PadH + Height) * Wp;
        new Span<int>(dst + done, (int)(PlaneUnits - done)).Fill(zunit);

        if (CheckMax)
        {
            int all = seen | seenV[0] | seenV[1] | seenV[2] | seenV[3] | seenV[4] | seenV[5] | seenV[6] | seenV[7]
                | seenV[8] | seenV[9] | seenV[10] | seenV[11] | seenV[12] | seenV[13] | seenV[14] | seenV[15]
                | seen8[0] | seen8[1] | seen8[2] | seen8[3] | seen8[4] | seen8[5] | seen8[6] | seen8[7];
            if ((all & ~(MaxCode * 0x01010101)) != 0)
                throw new ArgumentOutOfRangeException("input",
                    $"IntConv2d: image {ImageBase + n} has an input code above {MaxCode}, the largest code of the layer's input bit width " +
                    "(the 16-bit accumulation path relies on that bound).");
        }
    }
}
