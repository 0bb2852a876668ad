namespace Nanoq.Kernels;

/// <summary>
/// Input gradient by GEMM + col2im, for strided convolutions (stride-1 ones are rewritten as a forward conv).
/// One task per (image, group), so tasks scatter into disjoint parts of dx:
/// <code>dcol[PatchSize, q0..q1] = W_gᵀ [PatchSize, Mg] · dy[n, g·Mg .., q0..q1];   dx_{n,g} += col2im(dcol)</code>
/// over pixel chunks of bounded size, in order, so the scratch stays in L2 and the sum order is fixed.
/// </summary>
internal unsafe struct Conv2dBackwardInputTask : IParallelBody
{
    public Conv2dGeometry G;
    public float* Dy, PackedWt, Dx;
    public long PackedGroupStride;
    public int PixelChunk;
    public bool Accumulate;

    public void Invoke(int task)
    {
        int n = task / G.Groups, g = task % G.Groups;
        int mg = G.GroupOutChannels, kg = G.PatchSize, plane = G.OutputPlane;
        float* dx = Dx + ((long)n * G.InChannels + (long)g * G.GroupInChannels) * G.InputPlane;
        if (!Accumulate) Im2ColSource.Zero(dx, G.GroupInChannels * G.InputPlane);
        if (mg == 0) return;
        float* dcol = GemmScratch.Current.Get(GemmScratch.Columns, (long)kg * PixelChunk);
        var source = new Im2ColSource(dx, G);
        var pa = new GemmPackAPrepacked(PackedWt + g * PackedGroupStride, GemmDriver.PaddedM(kg));
        for (int q0 = 0; q0 < plane; q0 += PixelChunk)
        {
            int qc = Math.Min(PixelChunk, plane - q0);
            var pb = new GemmPackBNormal(Dy + ((long)n * G.OutChannels + (long)g * mg) * plane + q0, plane);
            GemmDriver.Run(ref pa, ref pb, 0, kg, 0, qc, mg, dcol, qc, 1f, 0f, null);
            for (int kk = 0; kk < kg; kk++) source.AddRow(kk, q0, qc, dcol + (long)kk * qc);
        }
    }
}
