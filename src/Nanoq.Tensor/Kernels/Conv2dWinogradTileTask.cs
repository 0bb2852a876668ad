using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nanoq.Kernels;

/// <summary>
/// One task of <see cref="Conv2dWinograd"/>: a block of 32 output tiles (tiles numbered over image, tile row, tile
/// column) and a range of output rows (whole 8-row panels), through the three steps while the block stays in cache:
/// <code>
/// V_ξ[Cin][32]     = (Bᵀ d B)_ξ         the block's input patches, transformed        (a packed B panel)
/// M_ξ[rows][32]    = U_ξ[rows, Cin] · V_ξ     36 GEMMs on the micro-kernel
/// y tiles          = Aᵀ M A (+ bias)    transformed back, written (or added) into y's planes
/// </code>
/// A block's tiles come as runs along one tile row of one image; a run's patches are its 6 input rows over 4·len + 2
/// columns, so the vertical transform runs along the rows (contiguous, 8 columns a vector) and the horizontal one
/// on 8 tiles a vector (columns 4t + j gathered by <see cref="Conv2dWinograd.Deinterleave4"/>). Tasks write disjoint
/// parts of y.
/// </summary>
internal unsafe struct Conv2dWinogradTileTask : IParallelBody
{
    public Conv2dGeometry G;
    public float* X, U, Bias, Y;
    /// <summary>0: y = conv + bias; 1: y += conv.</summary>
    public float Beta;
    public int TilesH, TilesW, RowChunks;
    public long Tiles;

    private const int Lanes = Conv2dWinograd.BlockTiles, Points = Conv2dWinograd.Points;
    /// <summary>A cache line between the points' planes of V and M (see <see cref="Conv2dWinograd.PointFloats"/>).</summary>
    private const int PointPad = 16;

    private static long VStride(int k) => (long)k * Lanes + PointPad;

    /// <summary>Floats of one transform row buffer: a run of up to 32 tiles is 4 chunks of 8, read 4 floats beyond.</summary>
    private const int RowFloats = 4 * 32 + 8;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Invoke(int index)
    {
        int block = index / RowChunks, chunk = index % RowChunks;
        int mp = GemmDriver.PaddedM(G.OutChannels), panels = mp / 8;
        int r0 = (int)((long)panels * chunk / RowChunks) * 8, r1 = (int)((long)panels * (chunk + 1) / RowChunks) * 8;
        if (r1 <= r0) return;
        int k = G.InChannels, rows = r1 - r0;
        long first = (long)block * Lanes;
        int count = (int)Math.Min(Lanes, Tiles - first);

        var scratch = GemmScratch.Current;
        long vStride = VStride(k), mStride = (long)rows * Lanes + PointPad;
        float* v = scratch.Get(GemmScratch.Transformed, Points * vStride);
        float* m = scratch.Get(GemmScratch.Products, Points * mStride + 8); // + 8: loads of a last partial chunk
        float* buffers = scratch.Get(GemmScratch.TransformRows, 12 * RowFloats);
        if (count < Lanes) ZeroFloats(v, (int)(Points * vStride)); // the GEMM reads every lane

        int tilesPerImage = TilesH * TilesW;
        for (int lane = 0; lane < count;)
        {
            long t = first + lane;
            int n = (int)(t / tilesPerImage), rem = (int)(t % tilesPerImage);
            int ty = rem / TilesW, tx = rem % TilesW;
            int len = Math.Min(TilesW - tx, count - lane);
            for (int c = 0; c < k; c++) TransformInput(n, c, ty, tx, len, lane, v + (long)c * Lanes, buffers);
            lane += len;
        }

        Multiply(v, m, r0, r1, mp);

        int lastRow = Math.Min(r1, G.OutChannels);
        for (int lane = 0; lane < count;)
        {
            long t = first + lane;
            int n = (int)(t / tilesPerImage), rem = (int)(t % tilesPerImage);
            int ty = rem / TilesW, tx = rem % TilesW;
            int len = Math.Min(TilesW - tx, count - lane);
            for (int o = r0; o < lastRow; o++) TransformOutput(n, o, ty, tx, len, m + (long)(o - r0) * Lanes + lane, mStride);
            lane += len;
        }
    }

    /// <summary>
    /// The run of <paramref name="len"/> tiles from (ty, tx) of image n, channel c: V_ξ[c][lane ..] for all 36 ξ
    /// (<paramref name="v"/> points at V_0[c][0]; points are Cin · 32 floats apart).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void TransformInput(int n, int c, int ty, int tx, int len, int lane, float* v, float* buffers)
    {
        int h = G.Height, w = G.Width;
        int chunks = (len + 7) / 8, width = 32 * chunks + 8, span = 4 * len + 2;
        int iy0 = 4 * ty - G.PadH, ix0 = 4 * tx - G.PadW;
        float* rowsIn = buffers, rowsZ = buffers + 6 * RowFloats;
        float* plane = X + ((long)n * G.InChannels + c) * h * w;
        // The patches' 6 input rows over the run's columns, zero outside the image and beyond the run.
        int lo = Math.Clamp(-ix0, 0, span), hi = Math.Clamp(w - ix0, lo, span);
        for (int r = 0; r < 6; r++)
        {
            float* dst = rowsIn + r * RowFloats;
            int iy = iy0 + r;
            if (iy < 0 || iy >= h || hi <= lo)
            {
                ZeroFloats(dst, width);
                continue;
            }
            ZeroFloats(dst, width);
            CopyFloats(plane + (long)iy * w + ix0 + lo, dst + lo, hi - lo);
        }
        // Vertical: Z[i][x] = (Bᵀ d[·][x])_i, 8 columns a vector.
        for (int x = 0; x < width; x += 8)
        {
            Conv2dWinograd.InputTransform(
                Avx.LoadVector256(rowsIn + x), Avx.LoadVector256(rowsIn + RowFloats + x),
                Avx.LoadVector256(rowsIn + 2 * RowFloats + x), Avx.LoadVector256(rowsIn + 3 * RowFloats + x),
                Avx.LoadVector256(rowsIn + 4 * RowFloats + x), Avx.LoadVector256(rowsIn + 5 * RowFloats + x),
                out var z0, out var z1, out var z2, out var z3, out var z4, out var z5);
            Avx.Store(rowsZ + x, z0);
            Avx.Store(rowsZ + RowFloats + x, z1);
            Avx.Store(rowsZ + 2 * RowFloats + x, z2);
            Avx.Store(rowsZ + 3 * RowFloats + x, z3);
            Avx.Store(rowsZ + 4 * RowFloats + x, z4);
            Avx.Store(rowsZ + 5 * RowFloats + x, z5);
        }
        // Horizontal, 8 tiles a vector: tile t's columns are Z[i][4t .. 4t + 6).
        long pointStride = VStride(G.InChannels);
        for (int q = 0; q < chunks; q++)
        {
            int valid = Math.Min(8, len - 8 * q);
            var mask = Vector256.LessThan(Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7), Vector256.Create(valid)).AsSingle();
            float* dst = v + lane + 8 * q;
            for (int i = 0; i < 6; i++)
            {
                float* z = rowsZ + i * RowFloats + 32 * q;
                Conv2dWinograd.Deinterleave4(z, out var d0, out var d1, out var d2, out var d3);
                Conv2dWinograd.Deinterleave4(z + 4, out var d4, out var d5, out _, out _);
                Conv2dWinograd.InputTransform(d0, d1, d2, d3, d4, d5,
                    out var v0, out var v1, out var v2, out var v3, out var v4, out var v5);
                float* p = dst + i * 6 * pointStride;
                if (valid == 8)
                {
                    Avx.Store(p, v0);
                    Avx.Store(p + pointStride, v1);
                    Avx.Store(p + 2 * pointStride, v2);
                    Avx.Store(p + 3 * pointStride, v3);
                    Avx.Store(p + 4 * pointStride, v4);
                    Avx.Store(p + 5 * pointStride, v5);
                }
                else
                {
                    Avx.MaskStore(p, mask, v0);
                    Avx.MaskStore(p + pointStride, mask, v1);
                    Avx.MaskStore(p + 2 * pointStride, mask, v2);
                    Avx.MaskStore(p + 3 * pointStride, mask, v3);
                    Avx.MaskStore(p + 4 * pointStride, mask, v4);
                    Avx.MaskStore(p + 5 * pointStride, mask, v5);
                }
            }
        }
    }

    /// <summary>M_ξ[r0 .. r1][32] = U_ξ[r0 .. r1, :] · V_ξ for the 36 points, K in the driver's blocks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Multiply(float* v, float* m, int r0, int r1, int mp)
    {
        int k = G.InChannels, kcStep = GemmDriver.KcStep(k), rows = r1 - r0;
        long perPoint = Conv2dWinograd.PointFloats(G.OutChannels, k);
        for (int xi = 0; xi < Points; xi++)
        {
            float* u = U + xi * perPoint, vx = v + xi * VStride(k), mx = m + xi * ((long)rows * Lanes + PointPad);
            for (int pc = 0; pc < k; pc += kcStep)
            {
                int kc = Math.Min(kcStep, k - pc);
                var ep = new GemmEpilogue(1f, 0f, null, pc == 0 ? GemmEpilogue.Overwrite : GemmEpilogue.Accumulate);
                float* a = u + (long)pc * mp + (long)r0 * kc, b = vx + (long)pc * Lanes;
                for (int r = 0; r < rows; r += 8)
                    GemmMicroKernel.Kernel8x32(kc, a + (long)r * kc, b, mx + (long)r * Lanes, Lanes, ep);
            }
        }
    }

    /// <summary>
    /// Output channel o over the run: Y = Aᵀ M A (+ bias, or added to y), 8 tiles a vector, each tile row written as
    /// 4 interleaved vectors (32 contiguous outputs). <paramref name="mo"/> points at M_0[o][lane]; points are
    /// <paramref name="pointStride"/> floats apart.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void TransformOutput(int n, int o, int ty, int tx, int len, float* mo, long pointStride)
    {
        int oh = G.OutHeight, ow = G.OutWidth;
        float* plane = Y + ((long)n * G.OutChannels + o) * oh * ow;
        var bias = Vector256.Create(Beta == 0f && Bias != null ? Bias[o] : 0f);
        float* tmp = stackalloc float[32];
        for (int q = 0, chunks = (len + 7) / 8; q < chunks; q++)
        {
            float* mq = mo + 8 * q;
            // Along each row of points: t[i][j] = (M[i][·] A)_j.
            Row(mq, pointStride, 0, out var t00, out var t01, out var t02, out var t03);
            Row(mq, pointStride, 1, out var t10, out var t11, out var t12, out var t13);
            Row(mq, pointStride, 2, out var t20, out var t21, out var t22, out var t23);
            Row(mq, pointStride, 3, out var t30, out var t31, out var t32, out var t33);
            Row(mq, pointStride, 4, out var t40, out var t41, out var t42, out var t43);
            Row(mq, pointStride, 5, out var t50, out var t51, out var t52, out var t53);
            // Down each column: y[oy][ox] = (Aᵀ t[·][ox])_oy.
            Conv2dWinograd.OutputTransform(t00, t10, t20, t30, t40, t50, out var y00, out var y10, out var y20, out var y30);
            Conv2dWinograd.OutputTransform(t01, t11, t21, t31, t41, t51, out var y01, out var y11, out var y21, out var y31);
            Conv2dWinograd.OutputTransform(t02, t12, t22, t32, t42, t52, out var y02, out var y12, out var y22, out var y32);
            Conv2dWinograd.OutputTransform(t03, t13, t23, t33, t43, t53, out var y03, out var y13, out var y23, out var y33);

            int x0 = 4 * (tx + 8 * q);
            int valid = Math.Min(4 * Math.Min(8, len - 8 * q), ow - x0);
            int y0 = 4 * ty;
            Store(plane, y0 + 0, x0, valid, y00 + bias, y01 + bias, y02 + bias, y03 + bias, tmp);
            Store(plane, y0 + 1, x0, valid, y10 + bias, y11 + bias, y12 + bias, y13 + bias, tmp);
            Store(plane, y0 + 2, x0, valid, y20 + bias, y21 + bias, y22 + bias, y23 + bias, tmp);
            Store(plane, y0 + 3, x0, valid, y30 + bias, y31 + bias, y32 + bias, y33 + bias, tmp);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row(float* mq, long pointStride, int i, out Vector256<float> t0, out Vector256<float> t1,
        out Vector256<float> t2, out Vector256<float> t3)
    {
        float* p = mq + i * 6 * pointStride;
        Conv2dWinograd.OutputTransform(Avx.LoadVector256(p), Avx.LoadVector256(p + pointStride),
            Avx.LoadVector256(p + 2 * pointStride), Avx.LoadVector256(p + 3 * pointStride),
            Avx.LoadVector256(p + 4 * pointStride), Avx.LoadVector256(p + 5 * pointStride),
            out t0, out t1, out t2, out t3);
    }

    /// <summary>Output row <paramref name="oy"/>, columns [x0, x0 + valid): the 8 tiles' 4 columns interleaved.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Store(float* plane, int oy, int x0, int valid, Vector256<float> c0, Vector256<float> c1,
        Vector256<float> c2, Vector256<float> c3, float* tmp)
    {
        if (oy >= G.OutHeight) return;
        float* dst = plane + (long)oy * G.OutWidth + x0;
        if (valid == 32 && Beta == 0f)
        {
            Conv2dWinograd.Interleave4(c0, c1, c2, c3, dst);
            return;
        }
        Conv2dWinograd.Interleave4(c0, c1, c2, c3, tmp);
        var lanes = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);
        for (int i = 0; i < valid; i += 8)
        {
            var v = Avx.LoadVector256(tmp + i);
            if (valid - i >= 8)
            {
                if (Beta != 0f) v += Avx.LoadVector256(dst + i);
                Avx.Store(dst + i, v);
                continue;
            }
            var mask = Vector256.LessThan(lanes, Vector256.Create(valid - i)).AsSingle();
            if (Beta != 0f) v += Avx.MaskLoad(dst + i, mask);
            Avx.MaskStore(dst + i, mask, v);
        }
    }

    /// <summary>dst[0 .. n) = src[0 .. n): 8 floats a step, the last step masked (no read or write beyond n).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyFloats(float* src, float* dst, int n)
    {
        int i = 0;
        for (; i + 8 <= n; i += 8) Avx.Store(dst + i, Avx.LoadVector256(src + i));
        if (i < n)
        {
            var mask = Vector256.LessThan(Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7), Vector256.Create(n - i)).AsSingle();
            Avx.MaskStore(dst + i, mask, Avx.MaskLoad(src + i, mask));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ZeroFloats(float* dst, int n)
    {
        int i = 0;
        for (; i + 8 <= n; i += 8) Avx.Store(dst + i, Vector256<float>.Zero);
        for (; i < n; i++) dst[i] = 0f;
    }
}
