namespace Nanoq.Kernels;

/// <summary>How a GEMM is cut between threads (never along K; see <see cref="GemmTask{TA, TB}"/>).</summary>
internal static class GemmSplit
{
    /// <summary>Below this many flops a GEMM stays on the calling thread (≈ 20 µs of one core).</summary>
    public const double MinParallelFlops = 2e6;

    /// <summary>Threads worth using for an m × n × k product.</summary>
    public static int Threads(int m, int n, int k)
    {
        int threads = ParallelRunner.MaxDegreeOfParallelism;
        if (threads <= 1 || 2.0 * m * n * k < MinParallelFlops) return 1;
        int panels = ((m + 7) / 8) * ((n + 31) / 32);
        return Math.Min(threads, panels);
    }

    /// <summary>
    /// A grid of exactly <paramref name="tasks"/> rectangles. Cutting N into tn parts makes every part repack all
    /// of A (cost tn·m·k); cutting M into tm parts repacks B (tm·n·k): pick the factorisation with the least
    /// repacking that still has a panel per part.
    /// </summary>
    public static (int TilesM, int TilesN) Grid(int m, int n, int tasks)
    {
        int panelsM = (m + 7) / 8, panelsN = (n + 31) / 32;
        (int, int) best = (1, 1);
        double bestCost = double.MaxValue;
        for (int tm = 1; tm <= tasks; tm++)
        {
            if (tasks % tm != 0) continue;
            int tn = tasks / tm;
            if (tm > panelsM || tn > panelsN) continue;
            double cost = (double)tn * m + (double)tm * n;
            if (cost < bestCost)
            {
                bestCost = cost;
                best = (tm, tn);
            }
        }
        return best;
    }
}
