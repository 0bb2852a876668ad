namespace Nanoq.Kernels;

/// <summary>
/// One weight-gradient task: K-chunk s (a fixed range of the flattened (image, pixel) index), group g, and a
/// range of weight columns:
/// <code>dW_s[g·Mg .. , cols] (+)= Σ_{(n, q) in chunk s} dy[n, g·Mg .. , q] · col_{n,g}[cols, q]ᵀ</code>
/// one GEMM (M = Mg, N = PatchSize, K = pixels) per image piece, accumulated in image order. The chunks depend on
/// the sizes only, so the partial sums, and their fixed-order reduction, are the same on any thread count.
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
        int mg = G.GroupOutChannels, kg = G.PatchSize, plane = G.OutputPlane;
        int panels = (kg + 31) / 32;
        int j0 = (int)((long)panels * split / ColumnSplits) * 32;
        int j1 = Math.Min(kg, (int)((long)panels * (split + 1) / ColumnSplits) * 32);
        if (j1 <= j0) return;

        long total = (long)G.Batch * plane;
        long start = total * s / Chunks, end = total * (s + 1) / Chunks;
        float* dw = Partials + s * PartialStride + (long)g * mg * kg;
        float beta = FirstBeta;
        bool any = false;
        for (long pos = start; pos < end;)
        {
            int n = (int)(pos / plane);
            int p0 = (int)(pos - (long)n * plane);
            int p1 = (int)Math.Min(plane, end - (long)n * plane);
            float* x = X + ((long)n * G.InChannels + (long)g * G.GroupInChannels) * G.InputPlane;
            var pa = new GemmPackANormal(Dy + ((long)n * G.OutChannels + (long)g * mg) * plane + p0, plane);
            if (G.IsPointwise)
            {
                var pb = new GemmPackBTransposed(x + p0, G.InputPlane);
                GemmDriver.Run(ref pa, ref pb, 0, mg, j0, j1, p1 - p0, dw, kg, 1f, beta, null);
            }
            else
            {
                var pb = new Conv2dPackBIm2ColTransposed(new Im2ColSource(x, G), p0);
                GemmDriver.Run(ref pa, ref pb, 0, mg, j0, j1, p1 - p0, dw, kg, 1f, beta, null);
            }
            beta = 1f;
            any = true;
            pos = (long)n * plane + p1;
        }
        if (!any && FirstBeta == 0f) GemmDriver.ScaleOnly(0, mg, j0, j1, dw, kg, 0f, null);
    }
}
