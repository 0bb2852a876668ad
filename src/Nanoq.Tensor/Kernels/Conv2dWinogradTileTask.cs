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
/// The input transform is <see cref="Conv2dWinogradInput"/>'s; the output transform, like it, runs along a block's
/// runs (tiles on one tile row of one image), 8 tiles a vector, each output row written as 4 interleaved vectors.
/// Tasks write disjoint parts of y.
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
        long mStride = Conv2dWinogradInput.PlaneFloats(rows);
        float* v = scratch.Get(GemmScratch.Transformed, Points * Conv2dWinogradInput.PlaneFloats(k));
        float* m = scratch.Get(GemmScratch.Products, Points * mStride + 8); // + 8: loads of a last partial chunk
        float* buffers = scratch.Get(GemmScratch.TransformRows, Conv2dWinogradInput.BufferFloats);
        Conv2dWinogradInputTask.Transform(G, X, TilesH, TilesW, first, count, v, buffers);

        Multiply(v, m, r0, r1, mp);

        int lastRow = Math.Min(r1, G.OutChannels);
        for (int lane = 0; lane < count;)
        {
            int len = Conv2dWinogradInput.NextRun(first + lane, count - lane, TilesH, TilesW, out int n, out int ty, out int tx);
            for (int o = r0; o < lastRow; o++) TransformOutput(n, o, ty, tx, len, m + (long)(o - r0) * Lanes + lane, mStride);
            lane += len;
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
            float* u = U + xi * perPoint, vx = v + xi * Conv2dWinogradInput.PlaneFloats(k), mx = m + xi * Conv2dWinogradInput.PlaneFloats(rows);
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
}
