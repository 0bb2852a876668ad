namespace Nanoq.Kernels;

/// <summary>
/// The input transforms of every 32-tile block at once, V of block b at <c>V + b · 36 · (Cin · 32 + 16)</c>, for a weight
/// gradient whose output rows are split between tasks (<see cref="Conv2dWinogradGradTask"/>): each split would
/// otherwise transform the same blocks again — at 256 channels on 14 × 14 maps, four times, a third of the call.
/// </summary>
internal unsafe struct Conv2dWinogradInputTask : IParallelBody
{
    public Conv2dGeometry G;
    public float* X, V;
    public int TilesH, TilesW;
    public long Tiles;

    /// <summary>Floats of one block's transforms.</summary>
    public static long BlockFloats(int inChannels) => Conv2dWinograd.Points * Conv2dWinogradInput.PlaneFloats(inChannels);

    public void Invoke(int block)
    {
        long first = (long)block * Conv2dWinograd.BlockTiles;
        int count = (int)Math.Min(Conv2dWinograd.BlockTiles, Tiles - first);
        float* buffers = GemmScratch.Current.Get(GemmScratch.TransformRows, Conv2dWinogradInput.BufferFloats);
        Transform(G, X, TilesH, TilesW, first, count, V + block * BlockFloats(G.InChannels), buffers);
    }

    /// <summary>One block's V (zero in the lanes of missing tiles: the GEMM reads every lane).</summary>
    public static void Transform(in Conv2dGeometry g, float* x, int tilesH, int tilesW, long first, int count, float* v,
        float* buffers)
    {
        long vStride = Conv2dWinogradInput.PlaneFloats(g.InChannels);
        if (count < Conv2dWinograd.BlockTiles) Conv2dSpan.Zero(v, (int)(Conv2dWinograd.Points * vStride));
        Conv2dWinogradInput.TransformBlock(g, x, tilesH, tilesW, first, count, v, Conv2dWinograd.BlockTiles, vStride, buffers);
    }
}
