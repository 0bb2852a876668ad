namespace Nanoq.Kernels;

/// <summary>
/// One plane of the input gradient of a strided depthwise convolution (stride 1 is a forward correlation with the
/// rotated kernel instead): scatter <c>w[c, t]·dy[n, c, oy, ox]</c> into a phase buffer (the transpose of the
/// forward gather), then read the buffer back into image order:
/// <code>dx[n, c, iy, ix] (+)= phase[(iy + PH) mod SH, (ix + PW) mod SW][⌊(iy + PH)/SH⌋, ⌊(ix + PW)/SW⌋]</code>
/// (0 where no tap ever reads the pixel). Rows and taps are visited in a fixed order.
/// </summary>
internal unsafe struct DepthwiseConv2dBackwardInputTask : IParallelBody
{
    public Conv2dGeometry G;
    public float* Dy, W, Dx;
    public bool Accumulate;

    public void Invoke(int plane)
    {
        int c = plane % G.InChannels;
        int taps = G.KernelH * G.KernelW;
        var phase = new Conv2dPhase(G, G.OutHeight);
        var scratch = GemmScratch.Current;
        int* offsets = (int*)scratch.Get(GemmScratch.Offsets, phase.OffsetInts(taps));
        phase.Offsets(offsets);
        long floats = phase.BufferFloats;
        float* buffer = scratch.Get(GemmScratch.Phase, floats);
        Conv2dSpan.Zero(buffer, (int)floats);
        float* w = W + (long)c * taps;
        float* dy = Dy + (long)plane * G.OutputPlane;
        int ow = G.OutWidth;
        for (int oy = 0; oy < G.OutHeight; oy++)
            DepthwiseConv2dRows.Scatter(dy + (long)oy * ow, ow, offsets, w, taps, buffer + (long)oy * phase.Wq);

        phase.Gather(buffer, offsets, Dx + (long)plane * G.InputPlane, Accumulate);
    }
}
