namespace Nanoq.Kernels;

/// <summary>
/// One plane (image n, channel c) of a direct depthwise convolution:
/// <code>y[n, c, oy, ox] = b[c] + Σ_{ky,kx} w[c, ky, kx] · x[n, c, oy·SH − PH + ky·DH, ox·SW − PW + kx·DW]</code>
/// The plane is laid out as a phase buffer once (zero padding, stride phases), then every output row is a sum of
/// shifted rows of it. <see cref="Beta"/> = 1 adds to y instead (used, with a rotated kernel, for input gradients).
/// </summary>
internal unsafe struct DepthwiseConv2dForwardTask : IParallelBody
{
    public Conv2dGeometry G;
    public float* X, W, Bias, Y;
    public float Beta;

    public void Invoke(int plane)
    {
        int c = plane % G.InChannels;
        int taps = G.KernelH * G.KernelW;
        var phase = new Conv2dPhase(G, G.OutHeight);
        var scratch = GemmScratch.Current;
        int* offsets = (int*)scratch.Get(GemmScratch.Offsets, phase.OffsetInts(taps));
        phase.Offsets(offsets);
        float* buffer = scratch.Get(GemmScratch.Phase, phase.BufferFloats);
        phase.Build(X + (long)plane * G.InputPlane, 0, offsets, buffer);
        float* w = W + (long)c * taps;
        float bias = Bias == null ? 0f : Bias[c];
        float* y = Y + (long)plane * G.OutputPlane;
        int ow = G.OutWidth;
        for (int oy = 0; oy < G.OutHeight; oy++)
            DepthwiseConv2dRows.Correlate(buffer + (long)oy * phase.Wq, offsets, w, taps, bias, y + (long)oy * ow, ow, Beta != 0f);
    }
}
