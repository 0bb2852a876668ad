using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nanoq.Kernels;

/// <summary>
/// The input transform of <see cref="Conv2dWinograd"/> for a block of tiles, V_ξ[c][lane] = (Bᵀ d B)_ξ, shared by the
/// forward (<see cref="Conv2dWinogradTileTask"/>) and the weight gradient (<see cref="Conv2dWinogradGradTask"/>). A
/// block's tiles come as runs along one tile row of one image (<see cref="NextRun"/>); a run's patches are its 6 input
/// rows over 4·len + 2 columns, so the vertical transform runs along the rows, read in place (contiguous, 8 columns a
/// vector), and the horizontal one on 8 tiles a vector (columns 4t + j gathered by
/// <see cref="Conv2dWinograd.Deinterleave4"/>, 4t + 4 and 4t + 5 by a lane shift).
/// </summary>
internal static unsafe class Conv2dWinogradInput
{
    /// <summary>Floats of one row buffer: a run of up to 32 tiles is 4 chunks of 8 tiles, read 4 floats beyond.</summary>
    public const int RowFloats = 4 * 32 + 8;

    /// <summary>Floats of the scratch a transform needs (6 rows of Z, or of a gradient's 4 rows).</summary>
    public const int BufferFloats = 6 * RowFloats;

    /// <summary>
    /// Tile t's run: its image, tile row and column, and how many tiles from it (at most <paramref name="remaining"/>)
    /// lie on the same tile row.
    /// </summary>
    public static int NextRun(long t, int remaining, int tilesH, int tilesW, out int n, out int ty, out int tx)
    {
        long perImage = (long)tilesH * tilesW;
        n = (int)(t / perImage);
        int rem = (int)(t % perImage);
        ty = rem / tilesW;
        tx = rem % tilesW;
        return Math.Min(tilesW - tx, remaining);
    }

    /// <summary>
    /// Floats between two points' planes of a block's V (or M, W) with <paramref name="rows"/> rows of 32 tiles: the
    /// rows and <see cref="Conv2dWinograd.PlaneGap"/>.
    /// </summary>
    public static long PlaneFloats(int rows) => (long)rows * Conv2dWinograd.BlockTiles + Conv2dWinograd.PlaneGap;

    /// <summary>Most tiles of one run (the row buffers' size).</summary>
    public const int MaxRun = 32;

    /// <summary>
    /// Tiles [first, first + count) of x (every channel) into V: <paramref name="v"/> points at V_0[0][0], channels are
    /// <paramref name="rowFloats"/> floats apart (at least count) and points <paramref name="pointStride"/>.
    /// </summary>
    public static void TransformBlock(in Conv2dGeometry g, float* x, int tilesH, int tilesW, long first, int count,
        float* v, int rowFloats, long pointStride, float* buffers)
    {
        for (int lane = 0; lane < count;)
        {
            int len = NextRun(first + lane, Math.Min(MaxRun, count - lane), tilesH, tilesW, out int n, out int ty, out int tx);
            for (int c = 0; c < g.InChannels; c++)
                TransformRun(g, x, n, c, ty, tx, len, lane, v + (long)c * rowFloats, pointStride, buffers);
            lane += len;
        }
    }

    /// <summary>
    /// The run of <paramref name="len"/> tiles from (ty, tx) of image n, channel c: V_ξ[c][lane ..] for all 36 ξ
    /// (<paramref name="v"/> points at V_0[c][0]; points are <paramref name="pointStride"/> floats apart).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransformRun(in Conv2dGeometry g, float* x, int n, int c, int ty, int tx, int len, int lane, float* v,
        long pointStride, float* buffers)
    {
        int h = g.Height, w = g.Width;
        int chunks = (len + 7) / 8, width = 32 * chunks + 8;
        int iy0 = 4 * ty - g.PadH, ix0 = 4 * tx - g.PadW;
        float* rowsZ = buffers;
        float* plane = x + ((long)n * g.InChannels + c) * h * w;
        // Vertical: Z[i][col] = (Bᵀ d[·][col])_i, 8 columns a vector, straight from the image's rows: zero above and
        // below it and, by masked loads, left and right of it (columns past the run feed only lanes no tile keeps).
        float* r0 = Row(plane, iy0, h, w, ix0), r1 = Row(plane, iy0 + 1, h, w, ix0), r2 = Row(plane, iy0 + 2, h, w, ix0);
        float* r3 = Row(plane, iy0 + 3, h, w, ix0), r4 = Row(plane, iy0 + 4, h, w, ix0), r5 = Row(plane, iy0 + 5, h, w, ix0);
        var lanes = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);
        for (int col = 0; col < width; col += 8)
        {
            int first = ix0 + col;
            bool whole = first >= 0 && first + 8 <= w;
            var inside = whole ? default : (Vector256.GreaterThanOrEqual(lanes, Vector256.Create(-first))
                                            & Vector256.LessThan(lanes, Vector256.Create(w - first))).AsSingle();
            Conv2dWinograd.InputTransform(Load(r0, col, whole, inside), Load(r1, col, whole, inside),
                Load(r2, col, whole, inside), Load(r3, col, whole, inside), Load(r4, col, whole, inside),
                Load(r5, col, whole, inside),
                out var z0, out var z1, out var z2, out var z3, out var z4, out var z5);
            Avx.Store(rowsZ + col, z0);
            Avx.Store(rowsZ + RowFloats + col, z1);
            Avx.Store(rowsZ + 2 * RowFloats + col, z2);
            Avx.Store(rowsZ + 3 * RowFloats + col, z3);
            Avx.Store(rowsZ + 4 * RowFloats + col, z4);
            Avx.Store(rowsZ + 5 * RowFloats + col, z5);
        }
        // Horizontal, 8 tiles a vector: tile t's columns are Z[i][4t .. 4t + 6).
        var next = Vector256.Create(1, 2, 3, 4, 5, 6, 7, 7);
        for (int q = 0; q < chunks; q++)
        {
            int valid = Math.Min(8, len - 8 * q);
            var mask = Vector256.LessThan(Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7), Vector256.Create(valid)).AsSingle();
            float* dst = v + lane + 8 * q;
            for (int i = 0; i < 6; i++)
            {
                float* z = rowsZ + i * RowFloats + 32 * q;
                Conv2dWinograd.Deinterleave4(z, out var d0, out var d1, out var d2, out var d3);
                // Columns 4t + 4 and 4t + 5 are the next tile's first two: d0 and d1 a lane on, the chunk's last lane
                // from the next 32 columns.
                var d4 = Avx.Blend(Avx2.PermuteVar8x32(d0, next), Vector256.Create(z[32]), 0x80);
                var d5 = Avx.Blend(Avx2.PermuteVar8x32(d1, next), Vector256.Create(z[33]), 0x80);
                Conv2dWinograd.InputTransform(d0, d1, d2, d3, d4, d5,
                    out var v0, out var v1, out var v2, out var v3, out var v4, out var v5);
                StorePoints(dst + i * 6 * pointStride, pointStride, valid, mask, v0, v1, v2, v3, v4, v5);
            }
        }
    }

    /// <summary>Image row iy of the plane, offset to column <paramref name="ix0"/>; null above and below the image.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float* Row(float* plane, int iy, int h, int w, int ix0) =>
        (uint)iy < (uint)h ? plane + (long)iy * w + ix0 : null;

    /// <summary>
    /// 8 columns of a row from <paramref name="col"/>: a plain load inside the image, a masked one (nothing read, zeros)
    /// where it leaves it, zeros for a row outside.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Load(float* row, int col, bool whole, Vector256<float> inside) =>
        row == null ? Vector256<float>.Zero : whole ? Avx.LoadVector256(row + col) : Avx.MaskLoad(row + col, inside);

    /// <summary>
    /// Six points of 8 tiles, <paramref name="stride"/> floats apart: whole vectors when all 8 tiles are there
    /// (<paramref name="valid"/> = 8), else only the lanes of <paramref name="mask"/> — the lanes beyond a run belong to the
    /// next run, or lie beyond the block.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StorePoints(float* dst, long stride, int valid, Vector256<float> mask, Vector256<float> v0,
        Vector256<float> v1, Vector256<float> v2, Vector256<float> v3, Vector256<float> v4, Vector256<float> v5)
    {
        if (valid == 8)
        {
            Avx.Store(dst, v0);
            Avx.Store(dst + stride, v1);
            Avx.Store(dst + 2 * stride, v2);
            Avx.Store(dst + 3 * stride, v3);
            Avx.Store(dst + 4 * stride, v4);
            Avx.Store(dst + 5 * stride, v5);
            return;
        }
        Avx.MaskStore(dst, mask, v0);
        Avx.MaskStore(dst + stride, mask, v1);
        Avx.MaskStore(dst + 2 * stride, mask, v2);
        Avx.MaskStore(dst + 3 * stride, mask, v3);
        Avx.MaskStore(dst + 4 * stride, mask, v4);
        Avx.MaskStore(dst + 5 * stride, mask, v5);
    }
}
