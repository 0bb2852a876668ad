using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nanoq.Kernels.Integer;

/// <summary>
/// One task of <see cref="IntConv2dWinograd"/>: a block of 64 consecutive output tiles of a chunk of images (tile
/// t = (image·tilesH + ty)·tilesW + tx, so a block may hold several tile rows and images), and one of
/// <see cref="ChannelSplits"/> runs of 4-channel output blocks. Three steps, all in the thread's cache:
/// <list type="number">
/// <item>input transform: V'_ξ[unit][tile] = (Bᵀ d B)_ξ + offset_ξ for the block's tiles, 16 tiles (one tile row
/// segment) × 4 input channels a 512-bit vector of bytes — the patch columns 2tx … 2tx + 3 taken from the interleaved
/// plane by even/odd unit permutes (8 tiles a 256-bit vector on AVX2);</item>
/// <item>16 products per 4-channel block, M_ξ[m][tile] = Σ_c U'_ξ[m][c] V'_ξ[c][tile], on <see cref="IntWinogradMicroKernel"/>
/// (on AVX2 the direct path's <see cref="IntConvMicroKernels.Madd16"/>: V'_ξ is laid out as the direct path's
/// interleaved input);</item>
/// <item>output transform Y = (Aᵀ M A + correction) / 4, then the direct path's requantization of 64 tiles a pixel
/// of the tile at a time, and each segment's two output rows written as byte pairs (<c>vpermt2b</c>; on AVX2 byte
/// unpacks) with masked stores.</item>
/// </list>
/// Tasks write disjoint outputs and every sum is exact, so results depend on neither the thread count nor the split.
/// </summary>
internal unsafe struct IntWinogradTileTask : IParallelBody
{
    private const int Tile = IntConv2dWinograd.BlockTiles;
    private const int Points = IntWinogradWeights.Points;

    public int* Units, Packed, Corrections, Offsets, PointSteps;
    public byte* Y;
    public int* AccOut;
    public Requantization? Rq;
    public int OutChannels, ChannelUnits, ChannelBlocks, InputOffset;
    public int OutHeight, OutWidth, TilesH, TilesW, Wp;
    public long PlaneUnits, ImageUnits;
    public int Tiles, ChannelSplits;

    /// <summary>A run of a block's tiles in one tile row: lanes p0 … p0 + length − 1, image n, tile row ty, first column tx.</summary>
    private struct Segment
    {
        public int P0, Length, Image, Ty, Tx;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Invoke(int task)
    {
        int split = task % ChannelSplits;
        int block = task / ChannelSplits;
        int cb0 = (int)((long)ChannelBlocks * split / ChannelSplits), cb1 = (int)((long)ChannelBlocks * (split + 1) / ChannelSplits);
        int t0 = block * Tile;
        int count = Tiles - t0 < Tile ? Tiles - t0 : Tile;
        int live = (count + 15) >> 4;

        var scratch = IntScratch.Current;
        int vPlane = ChannelUnits * Tile + IntConv2dWinograd.PlaneGap;
        int accPlane = IntConv2dWeights.BlockChannels * Tile + IntConv2dWinograd.PlaneGap;
        int* v = scratch.Get(IntScratch.Panel, (long)Points * vPlane);
        // The accumulators, then the 4 pixel rows [4][64] ints, then (AVX2) their codes [4][64] bytes and a vector's slack.
        int* acc = scratch.Get(IntScratch.AccTile, Points * accPlane + 6 * Tile);
        int* pixels = acc + Points * accPlane;
        var segments = (Segment*)scratch.Get(IntScratch.PanelIndex, Tile * sizeof(Segment) / sizeof(int));

        int segmentCount = 0;
        int imageTiles = TilesH * TilesW;
        for (int t = t0; t < t0 + count;)
        {
            int n = t / imageTiles, r = t - n * imageTiles, ty = r / TilesW, tx = r - ty * TilesW;
            int length = TilesW - tx;
            if (length > 16) length = 16;
            if (length > t0 + count - t) length = t0 + count - t;
            segments[segmentCount++] = new Segment { P0 = t - t0, Length = length, Image = n, Ty = ty, Tx = tx };
            t += length;
        }

        bool wide = IntConv2dWinograd.Is512;
        for (int s = 0; s < segmentCount; s++)
            if (wide) TransformInput(segments[s], v, vPlane);
            else TransformInput256(segments[s], v, vPlane);

        int zeroTap = 0;
        for (int cb = cb0; cb < cb1; cb++)
        {
            int* a = Packed + (long)cb * Points * ChannelUnits * IntConv2dWeights.BlockChannels;
            for (int xi = 0; xi < Points; xi++)
            {
                if (wide) IntWinogradMicroKernel.Products(live, a, v + xi * vPlane, ChannelUnits, PointSteps[xi], acc + xi * accPlane);
                else IntConvMicroKernels.Madd16(live, a, v + xi * vPlane, &zeroTap, 1, ChannelUnits, Tile, PointSteps[xi], acc + xi * accPlane);
                a += ChannelUnits * IntConv2dWeights.BlockChannels;
            }
            for (int m = 0; m < IntConv2dWeights.BlockChannels; m++)
            {
                int o = cb * IntConv2dWeights.BlockChannels + m;
                if (o >= OutChannels) break;
                TransformOutput(acc + m * Tile, accPlane, live, Corrections + 4 * o, pixels);
                if (AccOut != null) StoreAccumulators(segments, segmentCount, o, pixels);
                else if (wide) StoreCodes(segments, segmentCount, o, live, pixels);
                else StoreCodes256(segments, segmentCount, o, live, pixels);
            }
        }
    }

    /// <summary>
    /// V'_ξ for one segment's tiles and every channel unit: rows 2ty … 2ty + 3 of the padded plane, columns 2tx + j taken
    /// by even/odd permutes of 34 units; Bᵀ d B on bytes (exact: each intermediate is a code difference or sum, and the
    /// result with its offset lies in [0, 4·x_max] ⊂ [0, 255], so arithmetic modulo 256 gives it).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void TransformInput(in Segment s, int* v, int vPlane)
    {
        var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        var odd = even + Vector512<int>.One;
        var off = Vector512.Create((byte)InputOffset);
        var mask = LaneMask.Ints(s.Length);
        int* plane = Units + s.Image * ImageUnits + (long)(2 * s.Ty) * Wp + 2 * s.Tx;
        int* dst = v + s.P0;
        for (int k = 0; k < ChannelUnits; k++)
        {
            int* r0 = plane + k * PlaneUnits, r1 = r0 + Wp, r2 = r1 + Wp, r3 = r2 + Wp;
            Columns(r0, even, odd, out var d00, out var d01, out var d02, out var d03);
            Columns(r1, even, odd, out var d10, out var d11, out var d12, out var d13);
            Columns(r2, even, odd, out var d20, out var d21, out var d22, out var d23);
            Columns(r3, even, odd, out var d30, out var d31, out var d32, out var d33);
            // Bᵀ d: along the patch's rows.
            var t00 = d00 - d20; var t01 = d01 - d21; var t02 = d02 - d22; var t03 = d03 - d23;
            var t10 = d10 + d20; var t11 = d11 + d21; var t12 = d12 + d22; var t13 = d13 + d23;
            var t20 = d20 - d10; var t21 = d21 - d11; var t22 = d22 - d12; var t23 = d23 - d13;
            var t30 = d10 - d30; var t31 = d11 - d31; var t32 = d12 - d32; var t33 = d13 - d33;
            // (Bᵀ d) B: along the columns; every point but (1, 1) shifted by the offset.
            int* p = dst + k * Tile;
            Row(p, vPlane, t00, t01, t02, t03, off, off, mask);
            Row(p + 4 * vPlane, vPlane, t10, t11, t12, t13, off, Vector512<byte>.Zero, mask);
            Row(p + 8 * vPlane, vPlane, t20, t21, t22, t23, off, off, mask);
            Row(p + 12 * vPlane, vPlane, t30, t31, t32, t33, off, off, mask);
        }
    }

    /// <summary>Columns 2tx + j (j = 0 … 3) of 16 tiles from one plane row starting at column 2tx.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Columns(int* row, Vector512<int> even, Vector512<int> odd,
        out Vector512<byte> c0, out Vector512<byte> c1, out Vector512<byte> c2, out Vector512<byte> c3)
    {
        var l0 = Vector512.Load(row);
        var l1 = Vector512.Load(row + 16);
        var l2 = Vector512.Load(row + 2);
        var l3 = Vector512.Load(row + 18);
        c0 = Avx512F.PermuteVar16x32x2(l0, even, l1).AsByte();
        c1 = Avx512F.PermuteVar16x32x2(l0, odd, l1).AsByte();
        c2 = Avx512F.PermuteVar16x32x2(l2, even, l3).AsByte();
        c3 = Avx512F.PermuteVar16x32x2(l2, odd, l3).AsByte();
    }

    /// <summary>Points (a, 0 … 3) of one row of Bᵀ d: t·B, offsets added (<paramref name="middle"/> for b = 1), masked stores.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row(int* p, int vPlane, Vector512<byte> t0, Vector512<byte> t1, Vector512<byte> t2, Vector512<byte> t3,
        Vector512<byte> off, Vector512<byte> middle, Vector512<int> mask)
    {
        Avx512F.MaskStore(p, mask, (t0 - t2 + off).AsInt32());
        Avx512F.MaskStore(p + vPlane, mask, (t1 + t2 + middle).AsInt32());
        Avx512F.MaskStore(p + 2 * vPlane, mask, (t2 - t1 + off).AsInt32());
        Avx512F.MaskStore(p + 3 * vPlane, mask, (t1 - t3 + off).AsInt32());
    }

    /// <summary>
    /// Requantizes the block's 4 tile pixels of channel <paramref name="o"/> (64 tiles a vector each) and writes every
    /// segment's rows 2ty and 2ty + 1: bytes 2j and 2j + 1 of a row are pixels (i, 0) and (i, 1) of tile p0 + j.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void StoreCodes(Segment* segments, int segmentCount, int o, int live, int* pixels)
    {
        int offset = Offsets[o];
        var y00 = Rq!.ApplyToVector(pixels, live, offset, o);
        var y01 = Rq.ApplyToVector(pixels + Tile, live, offset, o);
        var y10 = Rq.ApplyToVector(pixels + 2 * Tile, live, offset, o);
        var y11 = Rq.ApplyToVector(pixels + 3 * Tile, live, offset, o);
        // byte 2j: lane j of the (i, 0) codes; byte 2j + 1: lane j of the (i, 1) codes (indices ≥ 64 pick the second table).
        var pairs = Vector512.Create((byte)0, 64, 1, 65, 2, 66, 3, 67, 4, 68, 5, 69, 6, 70, 7, 71, 8, 72, 9, 73, 10, 74, 11, 75, 12, 76, 13, 77,
            14, 78, 15, 79, 16, 80, 17, 81, 18, 82, 19, 83, 20, 84, 21, 85, 22, 86, 23, 87, 24, 88, 25, 89, 26, 90, 27, 91, 28, 92, 29, 93, 30, 94,
            31, 95);
        long plane = (long)OutHeight * OutWidth;
        for (int s = 0; s < segmentCount; s++)
        {
            ref var seg = ref segments[s];
            int ox = 2 * seg.Tx, oy = 2 * seg.Ty;
            int width = OutWidth - ox < 2 * seg.Length ? OutWidth - ox : 2 * seg.Length;
            var store = LaneMask.Bytes(width);
            var index = pairs + Vector512.Create((byte)seg.P0);
            byte* row = Y + ((long)seg.Image * OutChannels + o) * plane + (long)oy * OutWidth + ox;
            Avx512BW.MaskStore(row, store, Avx512Vbmi.PermuteVar64x8x2(y00, index, y01));
            if (oy + 1 < OutHeight)
                Avx512BW.MaskStore(row + OutWidth, store, Avx512Vbmi.PermuteVar64x8x2(y10, index, y11));
        }
    }

    /// <summary>
    /// The AVX2 form of <see cref="TransformInput"/>: 8 tiles a 256-bit vector, the same byte arithmetic (so the same V').
    /// The even and odd units of 16 come from an in-lane dword permute of each half and a 128-bit lane exchange.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void TransformInput256(in Segment s, int* v, int vPlane)
    {
        var off = Vector256.Create((byte)InputOffset);
        int* plane = Units + s.Image * ImageUnits + (long)(2 * s.Ty) * Wp + 2 * s.Tx;
        for (int h = 0; h < s.Length; h += 8)
        {
            var mask = Vector256.LessThan(Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7), Vector256.Create(s.Length - h));
            int* dst = v + s.P0 + h;
            for (int k = 0; k < ChannelUnits; k++)
            {
                int* r0 = plane + k * PlaneUnits + 2 * h, r1 = r0 + Wp, r2 = r1 + Wp, r3 = r2 + Wp;
                Columns256(r0, out var d00, out var d01, out var d02, out var d03);
                Columns256(r1, out var d10, out var d11, out var d12, out var d13);
                Columns256(r2, out var d20, out var d21, out var d22, out var d23);
                Columns256(r3, out var d30, out var d31, out var d32, out var d33);
                var t00 = d00 - d20; var t01 = d01 - d21; var t02 = d02 - d22; var t03 = d03 - d23;
                var t10 = d10 + d20; var t11 = d11 + d21; var t12 = d12 + d22; var t13 = d13 + d23;
                var t20 = d20 - d10; var t21 = d21 - d11; var t22 = d22 - d12; var t23 = d23 - d13;
                var t30 = d10 - d30; var t31 = d11 - d31; var t32 = d12 - d32; var t33 = d13 - d33;
                int* p = dst + k * Tile;
                Row256(p, vPlane, t00, t01, t02, t03, off, off, mask);
                Row256(p + 4 * vPlane, vPlane, t10, t11, t12, t13, off, Vector256<byte>.Zero, mask);
                Row256(p + 8 * vPlane, vPlane, t20, t21, t22, t23, off, off, mask);
                Row256(p + 12 * vPlane, vPlane, t30, t31, t32, t33, off, off, mask);
            }
        }
    }

    /// <summary>Columns 2tx + j (j = 0 … 3) of 8 tiles from one plane row starting at column 2tx.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Columns256(int* row, out Vector256<byte> c0, out Vector256<byte> c1, out Vector256<byte> c2, out Vector256<byte> c3)
    {
        var split = Vector256.Create(0, 2, 4, 6, 1, 3, 5, 7);   // each half: its even units, then its odd ones
        var e0 = Avx2.PermuteVar8x32(Vector256.Load(row), split);
        var e1 = Avx2.PermuteVar8x32(Vector256.Load(row + 8), split);
        var f0 = Avx2.PermuteVar8x32(Vector256.Load(row + 2), split);
        var f1 = Avx2.PermuteVar8x32(Vector256.Load(row + 10), split);
        c0 = Avx2.Permute2x128(e0, e1, 0x20).AsByte();
        c1 = Avx2.Permute2x128(e0, e1, 0x31).AsByte();
        c2 = Avx2.Permute2x128(f0, f1, 0x20).AsByte();
        c3 = Avx2.Permute2x128(f0, f1, 0x31).AsByte();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row256(int* p, int vPlane, Vector256<byte> t0, Vector256<byte> t1, Vector256<byte> t2, Vector256<byte> t3,
        Vector256<byte> off, Vector256<byte> middle, Vector256<int> mask)
    {
        Avx2.MaskStore(p, mask, (t0 - t2 + off).AsInt32());
        Avx2.MaskStore(p + vPlane, mask, (t1 + t2 + middle).AsInt32());
        Avx2.MaskStore(p + 2 * vPlane, mask, (t2 - t1 + off).AsInt32());
        Avx2.MaskStore(p + 3 * vPlane, mask, (t1 - t3 + off).AsInt32());
    }

    /// <summary>
    /// pixels[ij][tile] = (Aᵀ M A + correction_ij) / 4 for one output channel (M_ξ at <paramref name="m"/> + ξ·accPlane),
    /// exact: the sum is 4 × the conv's integer sum, so the arithmetic shift divides without rounding. 8 lanes at both
    /// vector levels: a 16-lane form measured no faster on the benchmark conv (2.22–2.35 against 2.25 ms, and within 1 %
    /// in a slow period; alternating processes, 2026-12-07 about 11:40, load 3.1 → 1.2 after the test suite).
    /// </summary>
    private static void TransformOutput(int* m, int accPlane, int live, int* correction, int* pixels)
    {
        var c00 = Vector256.Create(correction[0]);
        var c01 = Vector256.Create(correction[1]);
        var c10 = Vector256.Create(correction[2]);
        var c11 = Vector256.Create(correction[3]);
        for (int i = 0; i < 16 * live; i += 8)
        {
            int* q = m + i;
            var m0 = Vector256.Load(q); var m1 = Vector256.Load(q + accPlane);
            var m2 = Vector256.Load(q + 2 * accPlane); var m3 = Vector256.Load(q + 3 * accPlane);
            var m4 = Vector256.Load(q + 4 * accPlane); var m5 = Vector256.Load(q + 5 * accPlane);
            var m6 = Vector256.Load(q + 6 * accPlane); var m7 = Vector256.Load(q + 7 * accPlane);
            var m8 = Vector256.Load(q + 8 * accPlane); var m9 = Vector256.Load(q + 9 * accPlane);
            var m10 = Vector256.Load(q + 10 * accPlane); var m11 = Vector256.Load(q + 11 * accPlane);
            var m12 = Vector256.Load(q + 12 * accPlane); var m13 = Vector256.Load(q + 13 * accPlane);
            var m14 = Vector256.Load(q + 14 * accPlane); var m15 = Vector256.Load(q + 15 * accPlane);
            // Aᵀ M: rows 0 + 1 + 2 and 1 − 2 − 3; then (Aᵀ M) A, the same along the columns.
            var s00 = m0 + m4 + m8; var s01 = m1 + m5 + m9; var s02 = m2 + m6 + m10; var s03 = m3 + m7 + m11;
            var s10 = m4 - m8 - m12; var s11 = m5 - m9 - m13; var s12 = m6 - m10 - m14; var s13 = m7 - m11 - m15;
            Vector256.ShiftRightArithmetic(s00 + s01 + s02 + c00, 2).Store(pixels + i);
            Vector256.ShiftRightArithmetic(s01 - s02 - s03 + c01, 2).Store(pixels + Tile + i);
            Vector256.ShiftRightArithmetic(s10 + s11 + s12 + c10, 2).Store(pixels + 2 * Tile + i);
            Vector256.ShiftRightArithmetic(s11 - s12 - s13 + c11, 2).Store(pixels + 3 * Tile + i);
        }
    }

    /// <summary>
    /// The AVX2 form of <see cref="StoreCodes"/>: the four pixels' codes into a byte row each (<see cref="Requantization.ApplyToBytes"/>),
    /// then a segment's pixel pairs interleaved 16 tiles at a time (<c>vpunpcklbw</c>/<c>vpunpckhbw</c>) and stored as
    /// whole dwords by <c>vpmaskmovd</c> and the last 0–3 bytes one by one — no store past a row's end.
    /// </summary>
    private void StoreCodes256(Segment* segments, int segmentCount, int o, int live, int* pixels)
    {
        int offset = Offsets[o];
        byte* codes = (byte*)(pixels + 4 * Tile);   // [4 pixels][64 tiles] bytes, past the pixel rows
        for (int i = 0; i < 4; i++) Rq!.ApplyToBytes(pixels + i * Tile, live, offset, o, codes + i * Tile);
        long plane = (long)OutHeight * OutWidth;
        for (int s = 0; s < segmentCount; s++)
        {
            ref var seg = ref segments[s];
            int ox = 2 * seg.Tx, oy = 2 * seg.Ty;
            int width = OutWidth - ox < 2 * seg.Length ? OutWidth - ox : 2 * seg.Length;
            byte* row = Y + ((long)seg.Image * OutChannels + o) * plane + (long)oy * OutWidth + ox;
            for (int i = 0; i < 2 && oy + i < OutHeight; i++)
            {
                var left = Vector128.Load(codes + 2 * i * Tile + seg.P0);
                var right = Vector128.Load(codes + (2 * i + 1) * Tile + seg.P0);
                var pairs = Vector256.Create(Sse2.UnpackLow(left, right), Sse2.UnpackHigh(left, right));
                byte* dst = row + i * OutWidth;
                int dwords = width >> 2;
                Avx2.MaskStore((int*)dst, Vector256.LessThan(Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7), Vector256.Create(dwords)), pairs.AsInt32());
                for (int b = dwords << 2; b < width; b++) dst[b] = pairs.GetElement(b);
            }
        }
    }

    /// <summary>The accumulators (offset added) instead of codes: <see cref="IntConv2d.ForwardAccumulators"/>, a tile at a time.</summary>
    private void StoreAccumulators(Segment* segments, int segmentCount, int o, int* pixels)
    {
        int offset = Offsets[o];
        long plane = (long)OutHeight * OutWidth;
        for (int s = 0; s < segmentCount; s++)
        {
            ref var seg = ref segments[s];
            int* dst = AccOut + ((long)seg.Image * OutChannels + o) * plane;
            for (int j = 0; j < seg.Length; j++)
                for (int i = 0; i < 4; i++)
                {
                    int oy = 2 * seg.Ty + (i >> 1), ox = 2 * (seg.Tx + j) + (i & 1);
                    if (oy < OutHeight && ox < OutWidth)
                        dst[(long)oy * OutWidth + ox] = unchecked(pixels[i * Tile + seg.P0 + j] + offset);
                }
        }
    }
}
