using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nanoq.Kernels;

/// <summary>
/// One task of <see cref="Conv2dWinograd.BackwardWeight"/>: a chunk of blocks (fixed by the sizes) and a range of
/// output rows (whole 8-row panels), each block through
/// <code>
/// V_ξ[Cin][32]   = (Bᵀ d B)_ξ            the block's input patches (<see cref="Conv2dWinogradInput"/>)
/// W_ξ[rows][32]  = (A dy Aᵀ)_ξ           the block's 4 × 4 tiles of dy, zero beyond the output
/// P_ξ[rows, Cin] (+)= W_ξ · V_ξᵀ          36 GEMMs with K = the block's 32 tiles, in block order
/// </code>
/// into the chunk's private partial sums, P_ξ of chunk j at Partials + j · 36 · PointStride + ξ · PointStride.
/// </summary>
internal unsafe struct Conv2dWinogradGradTask : IParallelBody
{
    public Conv2dGeometry G;
    public float* X, Dy, Partials;
    /// <summary>The input transforms of all blocks, made once (<see cref="Conv2dWinogradInputTask"/>) when the output rows
    /// are split between tasks; null: each task transforms its blocks.</summary>
    public float* Transformed;
    public int TilesH, TilesW, Blocks, Chunks, RowSplits;
    public long Tiles, PointStride;

    private const int Lanes = Conv2dWinograd.BlockTiles, Points = Conv2dWinograd.Points;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Invoke(int index)
    {
        int chunk = index / RowSplits, split = index % RowSplits;
        int panels = GemmDriver.PaddedM(G.OutChannels) / 8;
        int r0 = (int)((long)panels * split / RowSplits) * 8;
        int r1 = Math.Min(G.OutChannels, (int)((long)panels * (split + 1) / RowSplits) * 8);
        int b0 = (int)((long)Blocks * chunk / Chunks), b1 = (int)((long)Blocks * (chunk + 1) / Chunks);
        if (r1 <= r0 || b1 <= b0) return;
        int k = G.InChannels, rows = r1 - r0;

        var scratch = GemmScratch.Current;
        long vStride = Conv2dWinogradInput.PlaneFloats(k), wStride = Conv2dWinogradInput.PlaneFloats(rows);
        float* v = Transformed == null ? scratch.Get(GemmScratch.Transformed, Points * vStride) : null;
        float* w = scratch.Get(GemmScratch.Products, Points * wStride);
        float* buffers = scratch.Get(GemmScratch.TransformRows, Conv2dWinogradInput.BufferFloats);
        float* p = Partials + chunk * Points * PointStride + (long)r0 * k;
        for (int b = b0; b < b1; b++)
        {
            long first = (long)b * Lanes;
            int count = (int)Math.Min(Lanes, Tiles - first);
            if (count < Lanes) Conv2dSpan.Zero(w, (int)(Points * wStride)); // the GEMM reads every lane
            if (Transformed != null) v = Transformed + b * Points * vStride;
            else Conv2dWinogradInputTask.Transform(G, X, TilesH, TilesW, first, count, v, buffers);
            for (int lane = 0; lane < count;)
            {
                int len = Conv2dWinogradInput.NextRun(first + lane, Math.Min(Conv2dWinogradInput.MaxRun, count - lane),
                    TilesH, TilesW, out int n, out int ty, out int tx);
                for (int o = r0; o < r1; o++) TransformGradient(n, o, ty, tx, len, w + (long)(o - r0) * Lanes + lane, wStride, buffers);
                lane += len;
            }
            float beta = b == b0 ? 0f : 1f;
            for (int xi = 0; xi < Points; xi++)
            {
                var pa = new GemmPackANormal(w + xi * wStride, Lanes);
                var pb = new GemmPackBTransposed(v + xi * vStride, Lanes);
                GemmDriver.Run(ref pa, ref pb, 0, rows, 0, k, Lanes, p + xi * PointStride, k, 1f, beta, null);
            }
        }
    }

    /// <summary>
    /// Output channel o of dy over the run: W_ξ[o][lane ..] = (A dy Aᵀ)_ξ, 8 tiles a vector (<paramref name="wo"/> points at
    /// W_0[o][lane]; points are <paramref name="pointStride"/> floats apart).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void TransformGradient(int n, int o, int ty, int tx, int len, float* wo, long pointStride, float* buffers)
    {
        int oh = G.OutHeight, ow = G.OutWidth;
        int chunks = (len + 7) / 8, width = 32 * chunks;
        int x0 = 4 * tx, valid = Math.Min(4 * len, ow - x0);
        float* plane = Dy + ((long)n * G.OutChannels + o) * oh * ow;
        // The run's 4 rows of dy, zero below the map and beyond the run.
        for (int r = 0; r < 4; r++)
        {
            float* dst = buffers + r * Conv2dWinogradInput.RowFloats;
            Conv2dSpan.Zero(dst, width);
            int oy = 4 * ty + r;
            if (oy < oh) Conv2dSpan.Copy(plane + (long)oy * ow + x0, dst, valid);
        }
        var lanes = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);
        for (int q = 0; q < chunks; q++)
        {
            float* b = buffers + 32 * q;
            const int R = Conv2dWinogradInput.RowFloats;
            // Along each row: h[r][j] = (A dy[r][·])_j.
            Conv2dWinograd.Deinterleave4(b, out var a0, out var a1, out var a2, out var a3);
            Conv2dWinograd.GradientTransform(a0, a1, a2, a3, out var h00, out var h01, out var h02, out var h03, out var h04, out var h05);
            Conv2dWinograd.Deinterleave4(b + R, out a0, out a1, out a2, out a3);
            Conv2dWinograd.GradientTransform(a0, a1, a2, a3, out var h10, out var h11, out var h12, out var h13, out var h14, out var h15);
            Conv2dWinograd.Deinterleave4(b + 2 * R, out a0, out a1, out a2, out a3);
            Conv2dWinograd.GradientTransform(a0, a1, a2, a3, out var h20, out var h21, out var h22, out var h23, out var h24, out var h25);
            Conv2dWinograd.Deinterleave4(b + 3 * R, out a0, out a1, out a2, out a3);
            Conv2dWinograd.GradientTransform(a0, a1, a2, a3, out var h30, out var h31, out var h32, out var h33, out var h34, out var h35);
            int count = Math.Min(8, len - 8 * q);
            var mask = Vector256.LessThan(lanes, Vector256.Create(count)).AsSingle();
            float* dst = wo + 8 * q;
            // Down each column j: W[i][j] = (A h[·][j])_i.
            Column(h00, h10, h20, h30, dst, pointStride, count, mask);
            Column(h01, h11, h21, h31, dst + pointStride, pointStride, count, mask);
            Column(h02, h12, h22, h32, dst + 2 * pointStride, pointStride, count, mask);
            Column(h03, h13, h23, h33, dst + 3 * pointStride, pointStride, count, mask);
            Column(h04, h14, h24, h34, dst + 4 * pointStride, pointStride, count, mask);
            Column(h05, h15, h25, h35, dst + 5 * pointStride, pointStride, count, mask);
        }
    }

    /// <summary>Column j's 6 points (rows i = 0 .. 5 of the transform, 6 · pointStride apart) from its 4 rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Column(Vector256<float> h0, Vector256<float> h1, Vector256<float> h2, Vector256<float> h3,
        float* dst, long pointStride, int count, Vector256<float> mask)
    {
        Conv2dWinograd.GradientTransform(h0, h1, h2, h3, out var s0, out var s1, out var s2, out var s3, out var s4, out var s5);
        Conv2dWinogradInput.StorePoints(dst, 6 * pointStride, count, mask, s0, s1, s2, s3, s4, s5);
    }
}
