namespace Nanoq.Kernels;

/// <summary>
/// One weight-gradient task: K-chunk s (a fixed range of the flattened (image, output row) index), group g, and a
/// range of weight columns:
/// <code>dW_s[g·Mg .. , cols] (+)= Σ_{(n, oy) in chunk s} dy[n, g·Mg .. , oy, :] · col_{n,g}[cols, (oy, :)]ᵀ</code>
/// one GEMM (M = Mg, N = PatchSize, K = pixels) per block of rows, accumulated in row order. Pointwise convs use
/// the image plane as colᵀ; others run on the phase grid (<see cref="Conv2dPhase"/>), with dy laid on the grid and
/// zero on its junk columns. The chunks depend on the sizes only, so the partial sums, and their fixed-order
/// reduction, are the same on any thread count.
/// </summary>
internal unsafe struct Conv2dBackwardWeightTask : IParallelBody
{
    public Conv2dGeometry G;
    public float* X, Dy, Partials;
    public long PartialStride;
    public int Chunks, ColumnSplits;
    /// <summary>β of the first GEMM of a chunk (1 to accumulate into existing contents, else 0).</summary>
    public float FirstBeta;

    public void Invoke(int task)
    {
        int split = task % ColumnSplits;
        int rest = task / ColumnSplits;
        int g = rest % G.Groups, s = rest / G.Groups;
        int mg = G.GroupOutChannels, kg = G.PatchSize, oh = G.OutHeight, ow = G.OutWidth, plane = G.OutputPlane;
        int panels = (kg + 31) / 32;
        int j0 = (int)((long)panels * split / ColumnSplits) * 32;
        int j1 = Math.Min(kg, (int)((long)panels * (split + 1) / ColumnSplits) * 32);
        if (j1 <= j0) return;

        long totalRows = (long)G.Batch * oh;
        long start = totalRows * s / Chunks, end = totalRows * (s + 1) / Chunks;
        float* dw = Partials + s * PartialStride + (long)g * mg * kg;
        if (start >= end)
        {
            if (FirstBeta == 0f) GemmDriver.ScaleOnly(0, mg, j0, j1, dw, kg, 0f, null);
            return;
        }

        var phase = G.IsPointwise ? default : new Conv2dPhase(G);
        int* offsets = null;
        float* buffer = null, grid = null;
        if (!G.IsPointwise)
        {
            var scratch = GemmScratch.Current;
            offsets = (int*)scratch.Get(GemmScratch.Offsets, phase.OffsetInts(kg));
            phase.Offsets(offsets);
            buffer = scratch.Get(GemmScratch.Phase, phase.BufferFloats);
            grid = scratch.Get(GemmScratch.Block, (long)mg * phase.BlockRows * phase.Wq);
        }

        float beta = FirstBeta;
        for (long pos = start; pos < end;)
        {
            int n = (int)(pos / oh);
            int oy = (int)(pos - (long)n * oh);
            int oyEnd = (int)Math.Min(oh, end - (long)n * oh);
            float* x = X + ((long)n * G.InChannels + (long)g * G.GroupInChannels) * G.InputPlane;
            float* dy = Dy + ((long)n * G.OutChannels + (long)g * mg) * plane;
            if (G.IsPointwise)
            {
                var pa = new GemmPackANormal(dy + oy * ow, plane);
                var pb = new GemmPackBTransposed(x + oy * ow, G.InputPlane);
                GemmDriver.Run(ref pa, ref pb, 0, mg, j0, j1, (oyEnd - oy) * ow, dw, kg, 1f, beta, null);
                beta = 1f;
            }
            else
            {
                for (int o = oy; o < oyEnd; o += phase.BlockRows)
                {
                    int rows = Math.Min(phase.BlockRows, oyEnd - o);
                    int k = rows * phase.Wq;
                    phase.Build(x, o, offsets, buffer);
                    phase.BuildGrid(dy, mg, o, rows, grid, k);
                    var pa = new GemmPackANormal(grid, k);
                    var pb = new Conv2dPackBShiftedTransposed(buffer, offsets, 0);
                    GemmDriver.Run(ref pa, ref pb, 0, mg, j0, j1, k, dw, kg, 1f, beta, null);
                    beta = 1f;
                }
            }
            pos = (long)n * oh + oyEnd;
        }
    }
}
