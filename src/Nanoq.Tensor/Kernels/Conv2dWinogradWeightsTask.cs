using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nanoq.Kernels;

/// <summary>
/// The weight transform of <see cref="Conv2dWinograd"/>, U_ξ = (G g Gᵀ)_ξ for every (output row, input channel), written
/// straight into the GEMM's prepacked A layout (<see cref="GemmPackAPrepacked"/>: K blocks of
/// <see cref="GemmDriver.KcStep(int)"/>, 8-row panels, a panel's 8 rows side by side for each k) — one 36-point
/// transform of 8 rows at once is one <c>Vector256</c> store per point. Task t takes a range of 8-row panels.
/// <code>
/// forward:        g(row o, k = c) = w[o, c, ·, ·]                w: [Rows, K, 3, 3]
/// input gradient: g(row c, k = o) = w[o, c, 2 − ·, 2 − ·]        w: [K, Rows, 3, 3]
/// </code>
/// </summary>
internal unsafe struct Conv2dWinogradWeightsTask : IParallelBody
{
    public float* W, U;
    public int Rows, K, Tasks;
    public bool Flipped;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Invoke(int task)
    {
        int mp = GemmDriver.PaddedM(Rows), panels = mp / 8, kcStep = GemmDriver.KcStep(K);
        int p0 = (int)((long)panels * task / Tasks), p1 = (int)((long)panels * (task + 1) / Tasks);
        long perPoint = Conv2dWinograd.PointFloats(Rows, K);
        // Lane r of a panel reads row p·8 + r: K·9 floats apart in the forward, 9 in the input gradient.
        int laneStride = Flipped ? 9 : K * 9;
        var lanes = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7) * Vector256.Create(laneStride);
        for (int p = p0; p < p1; p++)
        {
            int valid = Math.Min(8, Rows - p * 8);
            var mask = Vector256.LessThan(Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7), Vector256.Create(valid)).AsSingle();
            for (int kk = 0; kk < K; kk++)
            {
                float* g = Flipped ? W + ((long)kk * Rows + p * 8) * 9 : W + ((long)p * 8 * K + kk) * 9;
                // The 3 × 3 taps of 8 rows; in the input gradient tap (ky, kx) is the weight's (2 − ky, 2 − kx).
                var g00 = Tap(g, Flipped ? 8 : 0, lanes, mask);
                var g01 = Tap(g, Flipped ? 7 : 1, lanes, mask);
                var g02 = Tap(g, Flipped ? 6 : 2, lanes, mask);
                var g10 = Tap(g, Flipped ? 5 : 3, lanes, mask);
                var g11 = Tap(g, 4, lanes, mask);
                var g12 = Tap(g, Flipped ? 3 : 5, lanes, mask);
                var g20 = Tap(g, Flipped ? 2 : 6, lanes, mask);
                var g21 = Tap(g, Flipped ? 1 : 7, lanes, mask);
                var g22 = Tap(g, Flipped ? 0 : 8, lanes, mask);
                // Columns: t[i][kx] = (G g[·][kx])_i.
                Conv2dWinograd.WeightTransform(g00, g10, g20, out var t00, out var t10, out var t20, out var t30, out var t40, out var t50);
                Conv2dWinograd.WeightTransform(g01, g11, g21, out var t01, out var t11, out var t21, out var t31, out var t41, out var t51);
                Conv2dWinograd.WeightTransform(g02, g12, g22, out var t02, out var t12, out var t22, out var t32, out var t42, out var t52);
                int pc = kk / kcStep * kcStep, kc = Math.Min(kcStep, K - pc);
                float* dst = U + (long)pc * mp + (long)p * 8 * kc + (kk - pc) * 8;
                // Rows: U[i][j] = (t[i][·] Gᵀ)_j.
                Row(t00, t01, t02, dst + 0 * 6 * perPoint, perPoint);
                Row(t10, t11, t12, dst + 1 * 6 * perPoint, perPoint);
                Row(t20, t21, t22, dst + 2 * 6 * perPoint, perPoint);
                Row(t30, t31, t32, dst + 3 * 6 * perPoint, perPoint);
                Row(t40, t41, t42, dst + 4 * 6 * perPoint, perPoint);
                Row(t50, t51, t52, dst + 5 * 6 * perPoint, perPoint);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Tap(float* g, int tap, Vector256<int> lanes, Vector256<float> mask) =>
        Avx2.GatherMaskVector256(Vector256<float>.Zero, g + tap, lanes, mask, 4);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row(Vector256<float> t0, Vector256<float> t1, Vector256<float> t2, float* dst, long perPoint)
    {
        Conv2dWinograd.WeightTransform(t0, t1, t2, out var u0, out var u1, out var u2, out var u3, out var u4, out var u5);
        Vector256.Store(u0, dst);
        Vector256.Store(u1, dst + perPoint);
        Vector256.Store(u2, dst + 2 * perPoint);
        Vector256.Store(u3, dst + 3 * perPoint);
        Vector256.Store(u4, dst + 4 * perPoint);
        Vector256.Store(u5, dst + 5 * perPoint);
    }
}
