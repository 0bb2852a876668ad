namespace Nanoq.Kernels;

/// <summary>
/// One forward task: output rows [oy0, oy1) of one (image, group), as the GEMM
/// <code>y[n, g·Mg .. (g+1)·Mg, rows] = W_g [Mg, PatchSize] · col_{n,g}[PatchSize, rows] (+ bias)</code>
/// with the weights prepacked once per call. Pointwise convs (1×1, stride 1, no padding) multiply by the image
/// plane itself, straight into y (weights prepacked for <see cref="GemmDriver"/>). Others run on the phase grid
/// (<see cref="Conv2dPhase"/>) a block of rows at a time: build the block's phase buffer, then
/// <see cref="Conv2dDirectGemm"/> (weights prepacked as one K block) writes the valid columns into y. Tasks write
/// disjoint outputs.
/// </summary>
internal unsafe struct Conv2dForwardTask : IParallelBody
{
    public Conv2dGeometry G;
    public float* X, PackedW, Bias, Y;
    public long PackedGroupStride;
    public int ChunksPerImage;
    /// <summary>0: y = conv(x); 1: y += conv(x).</summary>
    public float Beta;

    public void Invoke(int task)
    {
        int chunk = task % ChunksPerImage;
        int ng = task / ChunksPerImage;
        int n = ng / G.Groups, g = ng % G.Groups;
        int mg = G.GroupOutChannels, kg = G.PatchSize, plane = G.OutputPlane;
        int oy0 = (int)((long)G.OutHeight * chunk / ChunksPerImage);
        int oy1 = (int)((long)G.OutHeight * (chunk + 1) / ChunksPerImage);
        if (oy1 <= oy0) return;

        float* x = X + ((long)n * G.InChannels + (long)g * G.GroupInChannels) * G.InputPlane;
        float* y = Y + ((long)n * G.OutChannels + (long)g * mg) * plane;
        float* bias = Bias == null ? null : Bias + g * mg;
        if (G.IsPointwise)
        {
            var pa = new GemmPackAPrepacked(PackedW + g * PackedGroupStride, GemmDriver.PaddedM(mg));
            var pb = new GemmPackBNormal(x, G.InputPlane);
            int ow = G.OutWidth;
            GemmDriver.Run(ref pa, ref pb, 0, mg, oy0 * ow, oy1 * ow, kg, y, plane, 1f, Beta, bias);
            return;
        }

        var phase = new Conv2dPhase(G);
        var scratch = GemmScratch.Current;
        int* offsets = (int*)scratch.Get(GemmScratch.Offsets, phase.OffsetInts(kg));
        phase.Offsets(offsets);
        float* buffer = scratch.Get(GemmScratch.Phase, phase.BufferFloats);
        float* packed = PackedW + g * PackedGroupStride;
        for (int oy = oy0; oy < oy1; oy += phase.BlockRows)
        {
            int rows = Math.Min(phase.BlockRows, oy1 - oy);
            phase.Build(x, oy, offsets, buffer);
            Conv2dDirectGemm.Run(phase, packed, mg, kg, buffer, offsets, oy, rows, y, bias, add: Beta != 0f);
        }
    }
}
