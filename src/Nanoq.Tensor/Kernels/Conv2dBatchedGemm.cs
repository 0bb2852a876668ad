namespace Nanoq.Kernels;

/// <summary>
/// Convolutions over small maps as one GEMM over the whole batch:
/// <code>C[Cout, N·P] = W[Cout, PatchSize] · col[PatchSize, N·P] (+ bias),   then y[n, o, :] (+)= C[o, n·P .. n·P + P)</code>
/// with col packed from the images as the GEMM needs it (<see cref="Conv2dPackBIm2col"/>) and the product cut
/// between threads by <see cref="GemmTask{TA, TB}"/>. The per-image phase grid (<see cref="Conv2dForwardTask"/>)
/// streams all of W once per 32-column strip of each image; a 7 × 7 map has two strips an image, so ResNet's last
/// stage read its 9 MiB of weights 16 times a batch of 8 and ran at half the rate of a plain GEMM of the same
/// size (benchmarks/README.md). Here W is read once per 2,048 columns of the batch.
/// </summary>
internal static unsafe class Conv2dBatchedGemm
{
    /// <summary>
    /// Largest output plane taken this way. Measured against the phase grid at batch 8 (both ways in one process,
    /// 21:45–21:55, load 1.0–1.8, AMD EPYC family 26 — Zen 5 — two cores; forward / input gradient / weight gradient):
    /// 3 × 3 convs on 2 × 2 to 5 × 5 maps 1.6–3× faster, 7 × 7 (512 channels) 8.2 / 9.5 / 9.6 → 7.5 / 7.8 / 6.1–7.0 ms,
    /// 10 × 10 (64 channels) the same, 14 × 14 (256) the same forward and 2–5 % slower for the weight gradient, 20 × 20
    /// and up slower (packing the im2col costs more than the weights' re-reads it saves).
    /// </summary>
    public const int MaxPlane = 100;

    /// <summary>
    /// Whether a convolution runs here: one group, stride 1 along rows (the packer's runs are then single masked
    /// loads), not a plain pointwise product (that already multiplies by the image plane), and a small output plane.
    /// The packer has AVX-512 and AVX2 forms giving the same bits, so both levels take this path and a model gives
    /// the same bytes on either; the portable level takes the phase grid.
    /// </summary>
    public static bool Suits(in Conv2dGeometry g) =>
        Simd.IsVector && g.Groups == 1 && !g.IsPointwise && g.StrideW == 1 && g.OutputPlane <= MaxPlane
        && (long)g.Batch * g.InChannels * g.InputPlane < int.MaxValue;

    /// <summary>
    /// y = conv(x, w) + bias, or y += conv(x, w) when <paramref name="beta"/> = 1 (no bias then), with w [Cout, PatchSize]
    /// read through <paramref name="weights"/> (the layer's own, or the flipped ones of an input gradient) and packed once.
    /// </summary>
    public static void Forward<TA>(in Conv2dGeometry g, float* x, TA weights, float* bias, float* y, float beta) where TA : struct, IGemmPackA
    {
        int m = g.OutChannels, k = g.PatchSize, plane = g.OutputPlane;
        int n = g.Batch * plane;
        float* packedW = GemmScratch.Current.Get(GemmScratch.Weights, GemmDriver.PrepackedFloats(m, k));
        GemmDriver.PrepackA(ref weights, m, k, packedW);
        float* c = GemmScratch.Current.Get(GemmScratch.Partials, (long)m * n);
        var pa = new GemmPackAPrepacked(packedW, GemmDriver.PaddedM(m));
        var pb = new Conv2dPackBIm2col(x, g);
        // Columns between the threads, not rows: A is prepacked (shared, nothing to repack) while each row band
        // would pack all of B again.
        var gemm = new GemmTask<GemmPackAPrepacked, Conv2dPackBIm2col>
        {
            PackA = pa, PackB = pb, M = m, N = n, K = k, C = c, Ldc = n, Alpha = 1f, Beta = 0f, RowBias = bias,
            TilesM = 1, TilesN = GemmSplit.Threads(m, n, k),
        };
        if (gemm.TilesN > 1) ParallelRunner.Run(gemm.TilesN, ref gemm);
        else gemm.Invoke(0);
        var scatter = new ScatterTask { C = c, Y = y, Channels = m, Plane = plane, Batch = g.Batch, Add = beta != 0f };
        if ((long)m * n >= 1 << 16) ParallelRunner.Run(g.Batch, ref scatter);
        else for (int i = 0; i < g.Batch; i++) scatter.Invoke(i);
    }

    /// <summary>
    /// dw = ∂L/∂w (or += when <paramref name="accumulate"/>) as one GEMM over the batch's pixels:
    /// <code>dw[Cout, PatchSize] = dy[Cout, N·P] · col[PatchSize, N·P]ᵀ</code>
    /// K (the pixels) is cut in blocks that depend on the sizes only, so the sums do not depend on the threads.
    /// </summary>
    public static void BackwardWeight(in Conv2dGeometry g, float* x, float* dy, float* dw, bool accumulate)
    {
        int m = g.OutChannels, k = g.PatchSize, pixels = g.Batch * g.OutputPlane;
        var pa = new Conv2dPackAPlanes(dy, m, g.OutputPlane);
        var pb = new Conv2dPackBIm2colTransposed(new Conv2dPackBIm2col(x, g));
        GemmTask<Conv2dPackAPlanes, Conv2dPackBIm2colTransposed>.Execute(ref pa, ref pb, m, k, pixels, dw, k, 1f,
            accumulate ? 1f : 0f, null, parallel: true);
    }

    /// <summary>Image n's planes: y[n, o, :] (+)= C[o, n·P .. n·P + P).</summary>
    private struct ScatterTask : IParallelBody
    {
        public float* C, Y;
        public int Channels, Plane, Batch;
        public bool Add;

        public void Invoke(int image)
        {
            long ldc = (long)Batch * Plane;
            float* src = C + (long)image * Plane;
            float* dst = Y + (long)image * Channels * Plane;
            for (int o = 0; o < Channels; o++, src += ldc, dst += Plane)
            {
                if (Add) Conv2dSpan.Add(src, dst, Plane);
                else Conv2dSpan.Copy(src, dst, Plane);
            }
        }
    }
}
