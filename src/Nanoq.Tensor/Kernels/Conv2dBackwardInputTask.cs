namespace Nanoq.Kernels;

/// <summary>
/// Input gradient by GEMM and a phase-grid col2im, for strided convolutions (stride-1 ones are rewritten as a
/// forward conv). One task per (image, group), so tasks write disjoint parts of dx. For each block of output rows:
/// <code>dcol[PatchSize, q] = W_gᵀ [PatchSize, Mg] · dy_{n,g}[Mg, q]     (q on the grid; dy is 0 on junk columns)
/// phase[offset(kk) + q] += dcol[kk, q]                                (col2im: contiguous adds, see Conv2dPhase)</code>
/// then dx_{n,g} (+)= the phase buffer read back in image order. Blocks, rows and taps run in a fixed order. With few
/// images a task takes a range of input channels (dcol rows) instead, so tasks still write disjoint parts of dx.
/// </summary>
internal unsafe struct Conv2dBackwardInputTask : IParallelBody
{
    public Conv2dGeometry G;
    public float* Dy, PackedWt, Dx;
    public long PackedGroupStride;
    public bool Accumulate;
    /// <summary>Input-channel chunks per (image, group), in multiples of 8 channels (batch 1 still uses every core).</summary>
    public int ChannelChunks;

    public void Invoke(int task)
    {
        int chunk = task % ChannelChunks;
        int ng = task / ChannelChunks;
        int n = ng / G.Groups, g = ng % G.Groups;
        int cg = G.GroupInChannels, taps = G.KernelH * G.KernelW;
        int units = (cg + 7) / 8;
        int c0 = (int)((long)units * chunk / ChannelChunks) * 8;
        int c1 = Math.Min(cg, (int)((long)units * (chunk + 1) / ChannelChunks) * 8);
        if (c1 <= c0) return;
        int mg = G.GroupOutChannels, kg = (c1 - c0) * taps;
        float* dx = Dx + ((long)n * G.InChannels + (long)g * cg + c0) * G.InputPlane;
        float* dy = Dy + ((long)n * G.OutChannels + (long)g * mg) * G.OutputPlane;

        var image = new Conv2dPhase(G, G.OutHeight, c1 - c0);
        var blocks = new Conv2dPhase(G);
        var scratch = GemmScratch.Current;
        int* offsets = (int*)scratch.Get(GemmScratch.Offsets, image.OffsetInts(kg));
        image.Offsets(offsets);
        long floats = image.BufferFloats;
        float* buffer = scratch.Get(GemmScratch.Phase, floats);
        Conv2dSpan.Zero(buffer, (int)floats);
        int maxCols = blocks.BlockRows * blocks.Wq;
        float* grid = scratch.Get(GemmScratch.Block, (long)mg * maxCols);
        float* dcol = scratch.Get(GemmScratch.Columns, (long)kg * maxCols);
        var pa = new GemmPackAPrepacked(PackedWt + g * PackedGroupStride, GemmDriver.PaddedM(kg));
        for (int oy = 0; oy < G.OutHeight; oy += blocks.BlockRows)
        {
            int rows = Math.Min(blocks.BlockRows, G.OutHeight - oy);
            int cols = rows * image.Wq;
            image.BuildGrid(dy, mg, oy, rows, grid, cols);
            var pb = new GemmPackBNormal(grid, cols);
            // Rows c0·taps .. c1·taps of dcol: c0 is a multiple of 8, so the prepacked panels line up.
            GemmDriver.Run(ref pa, ref pb, c0 * taps, c1 * taps, 0, cols, mg, dcol - (long)c0 * taps * cols, cols, 1f, 0f, null);
            float* at = buffer + (long)oy * image.Wq;
            for (int kk = 0; kk < kg; kk++) Conv2dSpan.Add(dcol + (long)kk * cols, at + offsets[kk], cols);
        }
        image.Gather(buffer, offsets, dx, Accumulate);
    }
}
