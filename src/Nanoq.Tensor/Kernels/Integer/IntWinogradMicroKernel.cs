using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nanoq.Kernels.Integer;

/// <summary>
/// The products of <see cref="IntConv2dWinograd"/> for one point ξ: M[m][t] = Σ_k dot(a[4k + m], b[64k + t]) for 4 output
/// channels m and a block's tiles t, each unit 4 channels (u8 V' × s8 U', <c>vpmaddubsw</c>). The direct path's
/// <see cref="IntConvMicroKernels.Madd16"/> widens its 16-bit sums into memory every 72 steps; here the operands are
/// larger (V' ≤ 60, |U'| ≤ 127) and a lane may sum only S_ξ steps (<see cref="IntWinogradWeights.PointSteps"/>: 2–16, 3–16
/// on random 4-bit weights), so the int32 sums stay in registers too: 4 channels × 2 vectors (32 tiles) of 16-bit and of
/// 32-bit accumulators, 16 of AVX-512's 32 registers, widened by <c>vpmaddwd</c> with ones every S_ξ steps. AVX-512
/// only: the 256-bit form runs the direct path's <see cref="IntConvMicroKernels.Madd16"/> with S_ξ instead.
/// </summary>
internal static unsafe class IntWinogradMicroKernel
{
    /// <summary>
    /// M for the first 16·<paramref name="live"/> tiles (1–4 vectors) of a 64-tile block: <paramref name="b"/> is
    /// V'_ξ[unit][64], <paramref name="a"/> the block's U'_ξ [unit][4], <paramref name="acc"/> [4][64] (overwritten
    /// in the live lanes). Exact when every pair sum of S steps fits int16 (<see cref="IntWinogradWeights"/>).
    /// </summary>
    public static void Products(int live, int* a, int* b, int units, int steps, int* acc)
    {
        if (live > 2)
        {
            Run<Live2>(a, b, units, steps, acc);
            if (live == 4) Run<Live2>(a, b + 32, units, steps, acc + 32);
            else Run<Live1>(a, b + 32, units, steps, acc + 32);
        }
        else if (live == 2) Run<Live2>(a, b, units, steps, acc);
        else Run<Live1>(a, b, units, steps, acc);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run<TLive>(int* a, int* b, int units, int steps, int* acc) where TLive : struct, ILiveVectors
    {
        int n = TLive.Count;
        var ones = Vector512.Create((short)1);
        Vector512<int> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        for (int k = 0; k < units;)
        {
            int end = units - k < steps ? units : k + steps;
            Vector512<short> s00 = default, s01 = default, s10 = default, s11 = default, s20 = default, s21 = default, s30 = default, s31 = default;
            for (; k < end; k++)
            {
                int* bk = b + 64 * k;
                var b0 = Vector512.Load((byte*)bk);
                var b1 = n > 1 ? Vector512.Load((byte*)(bk + 16)) : default;
                int* ak = a + 4 * k;
                var w0 = Vector512.Create(ak[0]).AsSByte();
                s00 += Avx512BW.MultiplyAddAdjacent(b0, w0);
                if (n > 1) s01 += Avx512BW.MultiplyAddAdjacent(b1, w0);
                var w1 = Vector512.Create(ak[1]).AsSByte();
                s10 += Avx512BW.MultiplyAddAdjacent(b0, w1);
                if (n > 1) s11 += Avx512BW.MultiplyAddAdjacent(b1, w1);
                var w2 = Vector512.Create(ak[2]).AsSByte();
                s20 += Avx512BW.MultiplyAddAdjacent(b0, w2);
                if (n > 1) s21 += Avx512BW.MultiplyAddAdjacent(b1, w2);
                var w3 = Vector512.Create(ak[3]).AsSByte();
                s30 += Avx512BW.MultiplyAddAdjacent(b0, w3);
                if (n > 1) s31 += Avx512BW.MultiplyAddAdjacent(b1, w3);
            }
            c00 += Avx512BW.MultiplyAddAdjacent(s00, ones);
            c10 += Avx512BW.MultiplyAddAdjacent(s10, ones);
            c20 += Avx512BW.MultiplyAddAdjacent(s20, ones);
            c30 += Avx512BW.MultiplyAddAdjacent(s30, ones);
            if (n > 1)
            {
                c01 += Avx512BW.MultiplyAddAdjacent(s01, ones);
                c11 += Avx512BW.MultiplyAddAdjacent(s11, ones);
                c21 += Avx512BW.MultiplyAddAdjacent(s21, ones);
                c31 += Avx512BW.MultiplyAddAdjacent(s31, ones);
            }
        }
        c00.Store(acc);
        c10.Store(acc + 64);
        c20.Store(acc + 128);
        c30.Store(acc + 192);
        if (n > 1)
        {
            c01.Store(acc + 16);
            c11.Store(acc + 80);
            c21.Store(acc + 144);
            c31.Store(acc + 208);
        }
    }
}
