namespace Nanoq.Kernels;

/// <summary>
/// One forward task: output pixels [q0, q1) of one (image, group), as the GEMM
/// <code>y[n, g·Mg .. (g+1)·Mg, q0..q1] = W_g [Mg, PatchSize] · col_{n,g}[PatchSize, q0..q1] (+ bias)</code>
/// with the weights prepacked once per call and the col panels packed straight from the image. Pointwise
/// (1×1, stride 1, no padding) convs use the image plane as B directly. Tasks write disjoint outputs.
/// </summary>
internal unsafe struct Conv2dForwardTask : IParallelBody
{
    public Conv2dGeometry G;
    public float* X, PackedW, Bias, Y;
    public long PackedGroupStride;
    public int ChunksPerImage;
    public float Beta;

    public void Invoke(int task)
    {
        int chunk = task % ChunksPerImage;
        int ng = task / ChunksPerImage;
        int n = ng / G.Groups, g = ng % G.Groups;
        int mg = G.GroupOutChannels, kg = G.PatchSize, plane = G.OutputPlane;
        int panels = (plane + 31) / 32;
        int q0 = (int)((long)panels * chunk / ChunksPerImage) * 32;
        int q1 = Math.Min(plane, (int)((long)panels * (chunk + 1) / ChunksPerImage) * 32);
        if (q1 <= q0) return;

        float* x = X + ((long)n * G.InChannels + (long)g * G.GroupInChannels) * G.InputPlane;
        float* y = Y + ((long)n * G.OutChannels + (long)g * mg) * plane;
        float* bias = Bias == null ? null : Bias + g * mg;
        var pa = new GemmPackAPrepacked(PackedW + g * PackedGroupStride, GemmDriver.PaddedM(mg));
        if (G.IsPointwise)
        {
            var pb = new GemmPackBNormal(x, G.InputPlane);
            GemmDriver.Run(ref pa, ref pb, 0, mg, q0, q1, kg, y, plane, 1f, Beta, bias);
        }
        else
        {
            var pb = new Conv2dPackBIm2Col(new Im2ColSource(x, G));
            GemmDriver.Run(ref pa, ref pb, 0, mg, q0, q1, kg, y, plane, 1f, Beta, bias);
        }
    }
}
