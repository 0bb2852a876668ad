using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nanoq.Kernels.Integer;

/// <summary>
/// Builds the interleaved, padded input of <see cref="IntConv2d"/> for one (image, group, channel unit): a plane of
/// Hp × Wp int32 units (Hp = H + 2·pad_h, Wp = W + 2·pad_w — a Winograd plane one more where tiles need it, <see cref="IntConv2dWinograd"/> — then slack up to <see cref="PlaneUnits"/>), each unit U input
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
        bool vbmi = Simd.Is512 && Avx512Vbmi.IsSupported;
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
            if (u == 4 && vbmi)
            {
                seenV |= InterleaveRow(r0, r1, r2, r3, r, w);
                ix = w;
            }
            else if (!Simd.Is512)
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
            new Span<int>(r + w, Wp - PadW - w).Fill(zunit);   // the right padding, and a Winograd plane's extra column
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

    /// <summary>
    /// One row of 4-channel units with AVX-512 VBMI, 64 pixels a round: two-source byte permutes (<c>vpermt2b</c>) pair
    /// channels 0 and 1 (and 2 and 3) byte by byte, then pair those words into units — 8 permutes per 64 pixels where the
    /// zero-extend-shift-or form has 40 vector operations (4 zero-extends, 3 shifts, 3 ORs per 16 pixels). The row's end
    /// goes through masked loads and a masked store, so nothing past <paramref name="w"/> is read or written. Returns the
    /// OR of the units written (the code-bound check).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> InterleaveRow(byte* r0, byte* r1, byte* r2, byte* r3, int* r, int w)
    {
        // byte 2i of a pair is source A's byte i, byte 2i + 1 source B's (indices ≥ 64 pick B): the first 32 pixels, the last 32.
        var pairLo = Vector512.Create((byte)0, 64, 1, 65, 2, 66, 3, 67, 4, 68, 5, 69, 6, 70, 7, 71, 8, 72, 9, 73, 10, 74, 11, 75, 12, 76, 13, 77,
            14, 78, 15, 79, 16, 80, 17, 81, 18, 82, 19, 83, 20, 84, 21, 85, 22, 86, 23, 87, 24, 88, 25, 89, 26, 90, 27, 91, 28, 92, 29, 93, 30, 94,
            31, 95);
        var pairHi = pairLo + Vector512.Create((byte)32);
        // unit i = word i of the (0, 1) pairs, then word i of the (2, 3) pairs: pixels 0–15 of a pair vector, pixels 16–31.
        var unitLo = Vector512.Create((byte)0, 1, 64, 65, 2, 3, 66, 67, 4, 5, 68, 69, 6, 7, 70, 71, 8, 9, 72, 73, 10, 11, 74, 75, 12, 13, 76, 77,
            14, 15, 78, 79, 16, 17, 80, 81, 18, 19, 82, 83, 20, 21, 84, 85, 22, 23, 86, 87, 24, 25, 88, 89, 26, 27, 90, 91, 28, 29, 92, 93, 30, 31,
            94, 95);
        var unitHi = unitLo + Vector512.Create((byte)32);
        var seen = Vector512<int>.Zero;
        for (int ix = 0; ix < w; ix += 64)
        {
            int n = w - ix;
            Vector512<byte> a0, a1, a2, a3;
            if (n >= 64)
            {
                a0 = Vector512.Load(r0 + ix);
                a1 = Vector512.Load(r1 + ix);
                a2 = Vector512.Load(r2 + ix);
                a3 = Vector512.Load(r3 + ix);
            }
            else
            {
                var m = LaneMask.Bytes(n);
                a0 = Avx512BW.MaskLoad(r0 + ix, m, Vector512<byte>.Zero);
                a1 = Avx512BW.MaskLoad(r1 + ix, m, Vector512<byte>.Zero);
                a2 = Avx512BW.MaskLoad(r2 + ix, m, Vector512<byte>.Zero);
                a3 = Avx512BW.MaskLoad(r3 + ix, m, Vector512<byte>.Zero);
            }
            var p01 = Avx512Vbmi.PermuteVar64x8x2(a0, pairLo, a1);
            var p23 = Avx512Vbmi.PermuteVar64x8x2(a2, pairLo, a3);
            var u0 = Avx512Vbmi.PermuteVar64x8x2(p01, unitLo, p23).AsInt32();
            var u1 = Avx512Vbmi.PermuteVar64x8x2(p01, unitHi, p23).AsInt32();
            p01 = Avx512Vbmi.PermuteVar64x8x2(a0, pairHi, a1);
            p23 = Avx512Vbmi.PermuteVar64x8x2(a2, pairHi, a3);
            var u2 = Avx512Vbmi.PermuteVar64x8x2(p01, unitLo, p23).AsInt32();
            var u3 = Avx512Vbmi.PermuteVar64x8x2(p01, unitHi, p23).AsInt32();
            seen |= u0 | u1 | u2 | u3;   // masked-off pixels are zeros
            int* d = r + ix;
            if (n >= 64)
            {
                u0.Store(d);
                u1.Store(d + 16);
                u2.Store(d + 32);
                u3.Store(d + 48);
                continue;
            }
            // n < 64: whole vectors, then the last one's first n mod 16 units.
            if (n >= 16) u0.Store(d); else { Avx512F.MaskStore(d, LaneMask.Ints(n), u0); continue; }
            if (n >= 32) u1.Store(d + 16); else { if (n > 16) Avx512F.MaskStore(d + 16, LaneMask.Ints(n - 16), u1); continue; }
            if (n >= 48) u2.Store(d + 32); else { if (n > 32) Avx512F.MaskStore(d + 32, LaneMask.Ints(n - 32), u2); continue; }
            if (n > 48) Avx512F.MaskStore(d + 48, LaneMask.Ints(n - 48), u3);
        }
        return seen;
    }
}
