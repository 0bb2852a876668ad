using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nanoq.Kernels.Integer;

/// <summary>
/// One compute task of <see cref="IntConv2d"/>: a run of 64-position tiles of one (image, group), and one of
/// <see cref="ChannelSplits"/> contiguous runs of the group's 4-channel blocks (all of them unless a small map has too
/// few tiles to keep the threads busy). Positions are
/// <list type="bullet">
/// <item>stride 1 ("direct"): q = oy·Wp + ox over the padded width, so tap (ky, kx) of the whole tile is the contiguous
/// run of units at q + ky·dil_h·Wp + kx·dil_w in the interleaved input — no im2col at all; the Wp − OW columns past
/// each row are computed and dropped (3% for 56×56, 3×3, pad 1);</item>
/// <item>other strides: p = oy·OW + ox, and the tile's patch units are first gathered (<c>vpgatherdd</c>) into a
/// panel laid out like the direct case.</item>
/// </list>
/// Each 4-channel block runs a micro-kernel (<see cref="IntConvMicroKernels"/>), then the epilogue adds
/// offset[c] = bias[c] − z_x·Σ(w_q − z_w[c]), requantizes and writes the tile's valid positions. Tasks write disjoint
/// outputs, so results do not depend on the thread count.
/// </summary>
internal unsafe struct IntConvTask : IParallelBody
{
    public const int Tile = 64;

    public int* Units, Packed, TapOffsets, Offsets;
    public byte* Y;
    public int* AccOut;
    public Requantization? Rq;
    public IntConvPath Path;
    public bool Direct;
    public int Groups, OutChannels, GroupOutChannels, ChannelUnits, ChannelBlocks, Taps, StepsPerWiden;
    public int OutHeight, OutWidth, Wp, StrideH, StrideW;
    public long PlaneUnits;
    public int Positions, Tiles, TilesPerTask, TasksPerImage;

    /// <summary>Runs of channel blocks a tile run is split into (≥ 1): task = ((image·groups + group)·TasksPerImage + chunk)·ChannelSplits + split.</summary>
    public int ChannelSplits;

    /// <summary>
    /// Nonzero: the images' padded planes (this many units each) are stacked into one tall plane and the positions run
    /// over the whole batch, p = image·OH·OW + oy·OW + ox, gathered (IntConv2d.RunTall).
    /// </summary>
    public int ImagePlane;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Invoke(int task)
    {
        int split = task % ChannelSplits;
        task /= ChannelSplits;
        int cb0 = (int)((long)ChannelBlocks * split / ChannelSplits), cb1 = (int)((long)ChannelBlocks * (split + 1) / ChannelSplits);
        int chunk = task % TasksPerImage;
        int ng = task / TasksPerImage;
        int n = ng / Groups, g = ng % Groups;
        int tile0 = chunk * TilesPerTask;
        int tile1 = tile0 + TilesPerTask < Tiles ? tile0 + TilesPerTask : Tiles;
        var scratch = IntScratch.Current;
        int* acc = scratch.Get(IntScratch.AccTile, 4 * Tile);
        int* outTile = scratch.Get(IntScratch.ByteTile, 4 * Tile);
        int* xg = Units + (long)ng * ChannelUnits * PlaneUnits;
        int rowUnits = Taps * ChannelUnits;

        int* panel = null, panelOffsets = null, index = null;
        if (!Direct)
        {
            panel = scratch.Get(IntScratch.Panel, (long)rowUnits * Tile);
            panelOffsets = scratch.Get(IntScratch.PanelIndex, Taps + Tile);
            index = panelOffsets + Taps;
            for (int t = 0; t < Taps; t++) panelOffsets[t] = t * ChannelUnits * Tile;
        }

        bool compress = AccOut == null && ImagePlane == 0 && Simd.Is512 && Avx512Vbmi2.IsSupported;
        for (int tile = tile0; tile < tile1; tile++)
        {
            int q0 = tile * Tile;
            // Vectors of 16 positions that hold real ones: small maps fill one or two, and only those are computed.
            int live = Positions - q0 < Tile ? (Positions - q0 + 15) >> 4 : Tile / 16;
            int* b;
            int* offs;
            nint stride;
            if (Direct)
            {
                b = xg + q0;
                offs = TapOffsets;
                stride = (nint)PlaneUnits;
            }
            else
            {
                GatherPanel(xg, q0, panel, index, Path == IntConvPath.Madd16 ? live : Tile / 16);
                b = panel;
                offs = panelOffsets;
                stride = Tile;
            }
            // The copy-free epilogue's masks depend on the tile only: made once for all its channel blocks.
            var masks = compress ? CompressMasks(q0, live) : default;
            for (int cb = cb0; cb < cb1; cb++)
            {
                int* a = Packed + (long)(g * ChannelBlocks + cb) * rowUnits * IntConv2dWeights.BlockChannels;
                switch (Path)
                {
                    case IntConvPath.Madd16:
                        IntConvMicroKernels.Madd16(live, a, b, offs, Taps, ChannelUnits, stride, StepsPerWiden, acc);
                        break;
                    case IntConvPath.Int16:
                        IntConvMicroKernels.Int16(a, b, offs, Taps, ChannelUnits, stride, acc);
                        break;
                    case IntConvPath.Vnni:
                        IntConvMicroKernels.Vnni(a, b, offs, Taps, ChannelUnits, stride, acc);
                        IntConvMicroKernels.Vnni(a, b + 32, offs, Taps, ChannelUnits, stride, acc + 32);
                        break;
                    default:
                        IntConvMicroKernels.VnniEmulated(a, b, offs, Taps, ChannelUnits, stride, acc);
                        IntConvMicroKernels.VnniEmulated(a, b + 32, offs, Taps, ChannelUnits, stride, acc + 32);
                        break;
                }
                if (compress) CompressEpilogue(n, g, cb, masks, live, acc);
                else Epilogue(n, g, cb, q0, live, acc, outTile);
            }
        }
    }

    /// <summary>
    /// panel[(t·units + k)·64 + i] = unit k of the patch tap t of position q0 + i (index 0 past the end), for the first
    /// 16·<paramref name="live"/> positions (the rest of a row is left as it was: the kernel that reads it ignores it).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void GatherPanel(int* xg, int q0, int* panel, int* index, int live)
    {
        for (int i = 0; i < Tile; i++)
        {
            int p = q0 + i;
            if (p < Positions)
            {
                int image = 0;
                if (ImagePlane != 0)
                {
                    image = p / (OutHeight * OutWidth);
                    p -= image * OutHeight * OutWidth;
                }
                int oy = p / OutWidth, ox = p - oy * OutWidth;
                index[i] = image * ImagePlane + oy * StrideH * Wp + ox * StrideW;
            }
            else index[i] = 0;
        }
        // .NET exposes no 512-bit gather: two 256-bit vpgatherdd per 16 positions, tap and channel unit.
        var i0 = Vector256.Load(index);
        var i1 = Vector256.Load(index + 8);
        var i2 = Vector256.Load(index + 16);
        var i3 = Vector256.Load(index + 24);
        var i4 = Vector256.Load(index + 32);
        var i5 = Vector256.Load(index + 40);
        var i6 = Vector256.Load(index + 48);
        var i7 = Vector256.Load(index + 56);
        int* dst = panel;
        for (int t = 0; t < Taps; t++)
        {
            int* src = xg + TapOffsets[t];
            for (int k = 0; k < ChannelUnits; k++)
            {
                Avx2.GatherVector256(src, i0, 4).Store(dst);
                Avx2.GatherVector256(src, i1, 4).Store(dst + 8);
                if (live > 1)
                {
                    Avx2.GatherVector256(src, i2, 4).Store(dst + 16);
                    Avx2.GatherVector256(src, i3, 4).Store(dst + 24);
                }
                if (live > 2)
                {
                    Avx2.GatherVector256(src, i4, 4).Store(dst + 32);
                    Avx2.GatherVector256(src, i5, 4).Store(dst + 40);
                }
                if (live > 3)
                {
                    Avx2.GatherVector256(src, i6, 4).Store(dst + 48);
                    Avx2.GatherVector256(src, i7, 4).Store(dst + 56);
                }
                src += PlaneUnits;
                dst += Tile;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Epilogue(int n, int g, int cb, int q0, int live, int* acc, int* outTile)
    {
        int plane = OutHeight * OutWidth;
        for (int m = 0; m < IntConv2dWeights.BlockChannels; m++)
        {
            int oLocal = cb * IntConv2dWeights.BlockChannels + m;
            if (oLocal >= GroupOutChannels) break;
            int o = g * GroupOutChannels + oLocal;
            int offset = Offsets[o];
            long outBase = ((long)n * OutChannels + o) * plane;
            int* row = acc + m * Tile;
            if (AccOut != null)
            {
                var vo = Vector256.Create(offset);
                for (int v = 0; v < 16 * live; v += 8) (Vector256.Load(row + v) + vo).Store(outTile + v);
                if (ImagePlane != 0) CopyValidTall(outTile, AccOut + outBase, q0);
                else CopyValid(outTile, AccOut + outBase, q0);
            }
            else
            {
                byte* bytes = (byte*)outTile;
                Rq!.ApplyToBytes(row, live, offset, o, bytes);
                if (ImagePlane != 0) CopyValidTall(bytes, Y + outBase, q0);
                else CopyValid(bytes, Y + outBase, q0);
            }
        }
    }

    /// <summary>
    /// The epilogue without a copy (AVX-512 with VBMI2): each channel's 64 codes are made in one register, the tile's
    /// real outputs packed to its front (<c>vpcompressb</c> by the tile's valid-position mask: in the direct layout the
    /// Wp − OW columns past each row are not outputs) and stored with a byte mask of their count — the outputs of a tile
    /// are consecutive in the output plane, from the first one's index on. Replaces the store to a scratch tile and the
    /// <see cref="CopyValid"/> runs (a <c>Memmove</c> call each). Only whole-plane layouts (<see cref="ImagePlane"/> 0).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CompressEpilogue(int n, int g, int cb, in TileMasks masks, int live, int* acc)
    {
        int plane = OutHeight * OutWidth;
        for (int m = 0; m < IntConv2dWeights.BlockChannels; m++)
        {
            int oLocal = cb * IntConv2dWeights.BlockChannels + m;
            if (oLocal >= GroupOutChannels) break;
            int o = g * GroupOutChannels + oLocal;
            var codes = Rq!.ApplyToVector(acc + m * Tile, live, Offsets[o], o);
            Avx512BW.MaskStore(Y + ((long)n * OutChannels + o) * plane + masks.Start, masks.Store, Avx512Vbmi2.Compress(Vector512<byte>.Zero, masks.Keep, codes));
        }
    }

    /// <summary>A tile's valid positions for <see cref="CompressEpilogue"/>: the lanes to keep, the byte mask of their
    /// count, and the output index of the first one.</summary>
    private readonly struct TileMasks(Vector512<byte> keep, Vector512<byte> store, int start)
    {
        public readonly Vector512<byte> Keep = keep, Store = store;
        public readonly int Start = start;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private TileMasks CompressMasks(int q0, int live)
    {
        int end = q0 + 16 * live < Positions ? q0 + 16 * live : Positions;
        ulong valid;
        int start;
        if (Direct)
        {
            int oy = q0 / Wp, ox = q0 - oy * Wp;
            start = oy * OutWidth + (ox < OutWidth ? ox : OutWidth);
            valid = 0;
            for (int i = 0; q0 + i < end; ox = 0)
            {
                int run = Wp - ox < end - q0 - i ? Wp - ox : end - q0 - i;
                if (ox < OutWidth) valid |= Ones(OutWidth - ox < run ? OutWidth - ox : run) << i;
                i += run;
            }
        }
        else
        {
            start = q0;
            valid = Ones(end - q0);
        }
        return new TileMasks(LaneMask.FromBits(valid), LaneMask.Bytes(BitOperations.PopCount(valid)), start);
    }

    /// <summary>The low <paramref name="count"/> bits set (0 ≤ count ≤ 64).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Ones(int count) => count >= 64 ? ulong.MaxValue : (1UL << count) - 1;

    /// <summary>Copies the tile's positions that are real outputs into the output plane (drops the padded-width columns).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CopyValid<T>(T* src, T* dst, int q0) where T : unmanaged
    {
        int end = q0 + Tile < Positions ? q0 + Tile : Positions;
        if (!Direct)
        {
            Unsafe.CopyBlockUnaligned(dst + q0, src, (uint)((end - q0) * sizeof(T)));
            return;
        }
        int q = q0;
        int oy = q / Wp, ox = q - oy * Wp;
        while (q < end)
        {
            int run = Wp - ox < end - q ? Wp - ox : end - q;
            if (ox < OutWidth)
            {
                int count = OutWidth - ox < run ? OutWidth - ox : run;
                Unsafe.CopyBlockUnaligned(dst + (long)oy * OutWidth + ox, src + (q - q0), (uint)(count * sizeof(T)));
            }
            q += run;
            oy++;
            ox = 0;
        }
    }

    /// <summary>
    /// <see cref="CopyValid"/> over a batch's positions (<see cref="ImagePlane"/> set): position p is output r of image
    /// p / (OH·OW); a tile's run is split where it crosses into the next image.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CopyValidTall<T>(T* src, T* dst, int q0) where T : unmanaged
    {
        int end = q0 + Tile < Positions ? q0 + Tile : Positions;
        int plane = OutHeight * OutWidth;
        long imageOut = (long)OutChannels * plane;
        for (int p = q0; p < end;)
        {
            int image = p / plane, r = p - image * plane;
            int run = plane - r < end - p ? plane - r : end - p;
            Unsafe.CopyBlockUnaligned(dst + image * imageOut + r, src + (p - q0), (uint)(run * sizeof(T)));
            p += run;
        }
    }
}
