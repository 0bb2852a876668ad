namespace Nanoq.Kernels;

/// <summary>
/// A parallel GEMM: C is cut into a grid of <c>tilesM × tilesN</c> rectangles (rows in 8-row panels, columns in
/// 32-column panels) and each task runs the whole K loop of one rectangle. K is never split, so every element of C
/// is computed by one task with the same operation order whatever the grid or the thread that runs it.
/// </summary>
internal unsafe struct GemmTask<TA, TB> : IParallelBody where TA : struct, IGemmPackA where TB : struct, IGemmPackB
{
    public TA PackA;
    public TB PackB;
    public int M, N, K;
    public float* C;
    public long Ldc;
    public float Alpha, Beta;
    public float* RowBias;
    public int TilesM, TilesN;

    public void Invoke(int task)
    {
        int tm = task / TilesN, tn = task % TilesN;
        int panelsM = (M + 7) / 8, panelsN = (N + 31) / 32;
        int i0 = (int)((long)panelsM * tm / TilesM) * 8, i1 = Math.Min(M, (int)((long)panelsM * (tm + 1) / TilesM) * 8);
        int j0 = (int)((long)panelsN * tn / TilesN) * 32, j1 = Math.Min(N, (int)((long)panelsN * (tn + 1) / TilesN) * 32);
        GemmDriver.Run(ref PackA, ref PackB, i0, i1, j0, j1, K, C, Ldc, Alpha, Beta, RowBias);
    }

    /// <summary>
    /// Runs the product on up to <see cref="ParallelRunner.MaxDegreeOfParallelism"/> threads, or on the calling thread
    /// when <paramref name="parallel"/> is false or the product is too small to pay for the hand-off.
    /// </summary>
    public static void Execute(ref TA pa, ref TB pb, int m, int n, int k, float* c, long ldc,
        float alpha, float beta, float* rowBias, bool parallel)
    {
        var task = new GemmTask<TA, TB>
        {
            PackA = pa, PackB = pb, M = m, N = n, K = k, C = c, Ldc = ldc,
            Alpha = alpha, Beta = beta, RowBias = rowBias, TilesM = 1, TilesN = 1,
        };
        int threads = parallel ? GemmSplit.Threads(m, n, k) : 1;
        if (threads <= 1)
        {
            task.Invoke(0);
            return;
        }
        (task.TilesM, task.TilesN) = GemmSplit.Grid(m, n, threads);
        ParallelRunner.Run(task.TilesM * task.TilesN, ref task);
    }
}
