using System.Runtime.Intrinsics;

namespace Nanoq.Kernels;

/// <summary>
/// The weight gradient of a direct depthwise convolution for a range of channels:
/// <code>dw[c, ky, kx] (+)= Σ_n Σ_{oy,ox} dy[n, c, oy, ox] · x[n, c, oy·SH − PH + ky·DH, ox·SW − PW + kx·DW]</code>
/// Each plane becomes a phase buffer, each tap a sum of row dot products in 16-lane partial sums; the lanes are
/// added in order, then the images in order, so the result does not depend on how channels were split.
/// </summary>
internal unsafe struct DepthwiseConv2dBackwardWeightTask : IParallelBody
{
    public Conv2dGeometry G;
    public float* X, Dy, Dw;
    public int Tasks;
    public bool Accumulate;

    public void Invoke(int task)
    {
        int channels = G.InChannels;
        int c0 = (int)((long)channels * task / Tasks), c1 = (int)((long)channels * (task + 1) / Tasks);
        int taps = G.KernelH * G.KernelW;
        var phase = new Conv2dPhase(G, G.OutHeight);
        var scratch = GemmScratch.Current;
        int* offsets = (int*)scratch.Get(GemmScratch.Offsets, phase.OffsetInts(taps));
        phase.Offsets(offsets);
        float* buffer = scratch.Get(GemmScratch.Phase, phase.BufferFloats);
        var acc = stackalloc Vector512<float>[taps];
        float* sums = stackalloc float[taps];
        int ow = G.OutWidth;
        for (int c = c0; c < c1; c++)
        {
            float* dw = Dw + (long)c * taps;
            for (int t = 0; t < taps; t++) sums[t] = Accumulate ? dw[t] : 0f;
            for (int n = 0; n < G.Batch; n++)
            {
                long plane = (long)n * channels + c;
                phase.Build(X + plane * G.InputPlane, 0, offsets, buffer);
                float* dy = Dy + plane * G.OutputPlane;
                for (int t = 0; t < taps; t++) acc[t] = Vector512<float>.Zero;
                for (int oy = 0; oy < G.OutHeight; oy++)
                    DepthwiseConv2dRows.Dot(dy + (long)oy * ow, ow, buffer + (long)oy * phase.Wq, offsets, taps, acc);
                for (int t = 0; t < taps; t++)
                {
                    float s = 0f;
                    for (int l = 0; l < 16; l++) s += acc[t].GetElement(l);
                    sums[t] += s;
                }
            }
            for (int t = 0; t < taps; t++) dw[t] = sums[t];
        }
    }
}
