using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nanoq.Kernels.Integer;

/// <summary>
/// The register-blocked inner product of <see cref="IntFullyConnectedPanelTask"/>: 4 input rows (one int a row broadcast
/// per step: the row's features 4k … 4k + 3 as u8 codes) × 64 outputs (a panel of the layer's int8 weights, 16 int32 lanes
/// a vector, lane j holding output j's 4 weights of those features), summed over the row's units:
/// <code>
///     acc[m][j] = Σ_{k &lt; units} dot(x_m[k], w[k·64 + j])       m &lt; 4, j &lt; 16·live
/// </code>
/// where dot is <c>vpmaddubsw</c>'s u8 × s8 pair sums, kept in int16 for S steps (exact: S = ⌊32767 / (2·x_max·w_max)⌋,
/// <see cref="IntFullyConnectedWeights.Madd16Steps"/>) and then widened into int32 by <c>vpmaddwd</c> with ones. It is
/// <see cref="IntConvMicroKernels.Madd16"/> with the operands' roles swapped — the weights are the vectors, the inputs
/// the broadcasts — so the layer's row-major input is read as it is and every lane of a vector is a real output: the
/// rows need no transpose into units, and the outputs come out row-major. acc is [4][64] ints, overwritten; lanes past
/// the live vectors are left as they were. Without AVX-512 the panel goes through 256-bit forms 16 outputs at a time
/// (4 rows × 2 vectors: 8 accumulators), the same steps in the same order, so the same exact sums.
/// </summary>
internal static unsafe class IntFullyConnectedMicroKernels
{
    /// <summary>Outputs of a weight panel: the width of the tile.</summary>
    public const int Panel = 64;

    public static void Madd16(int live, int* x0, int* x1, int* x2, int* x3, int* w, int units, int stepsPerWiden, int* acc)
    {
        if (!Simd.Is512)
        {
            for (int v = 0; v < live; v++) Madd16Avx2(x0, x1, x2, x3, w + 16 * v, units, stepsPerWiden, acc + 16 * v);
            return;
        }
        switch (live)
        {
            case 1: Madd16<Live1>(x0, x1, x2, x3, w, units, stepsPerWiden, acc); break;
            case 2: Madd16<Live2>(x0, x1, x2, x3, w, units, stepsPerWiden, acc); break;
            case 3: Madd16<Live3>(x0, x1, x2, x3, w, units, stepsPerWiden, acc); break;
            default: Madd16<Live4>(x0, x1, x2, x3, w, units, stepsPerWiden, acc); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Madd16<TLive>(int* x0, int* x1, int* x2, int* x3, int* w, int units, int stepsPerWiden, int* acc)
        where TLive : struct, ILiveVectors
    {
        int n = TLive.Count;
        for (int m = 0; m < 4; m++)
            for (int v = 0; v < n; v++) Vector512<int>.Zero.Store(acc + m * Panel + v * 16);
        var ones = Vector512.Create((short)1);
        // s_mv: row m, outputs 16v … 16v + 15.
        Vector512<short> s00 = default, s01 = default, s02 = default, s03 = default, s10 = default, s11 = default, s12 = default, s13 = default,
                         s20 = default, s21 = default, s22 = default, s23 = default, s30 = default, s31 = default, s32 = default, s33 = default;
        int left = stepsPerWiden;
        for (int k = 0; k < units; k++, w += Panel)
        {
            var w0 = Vector512.Load((sbyte*)w);
            var w1 = n > 1 ? Vector512.Load((sbyte*)(w + 16)) : default;
            var w2 = n > 2 ? Vector512.Load((sbyte*)(w + 32)) : default;
            var w3 = n > 3 ? Vector512.Load((sbyte*)(w + 48)) : default;
            var b = Vector512.Create(x0[k]).AsByte();
            s00 += Avx512BW.MultiplyAddAdjacent(b, w0);
            if (n > 1) s01 += Avx512BW.MultiplyAddAdjacent(b, w1);
            if (n > 2) s02 += Avx512BW.MultiplyAddAdjacent(b, w2);
            if (n > 3) s03 += Avx512BW.MultiplyAddAdjacent(b, w3);
            b = Vector512.Create(x1[k]).AsByte();
            s10 += Avx512BW.MultiplyAddAdjacent(b, w0);
            if (n > 1) s11 += Avx512BW.MultiplyAddAdjacent(b, w1);
            if (n > 2) s12 += Avx512BW.MultiplyAddAdjacent(b, w2);
            if (n > 3) s13 += Avx512BW.MultiplyAddAdjacent(b, w3);
            b = Vector512.Create(x2[k]).AsByte();
            s20 += Avx512BW.MultiplyAddAdjacent(b, w0);
            if (n > 1) s21 += Avx512BW.MultiplyAddAdjacent(b, w1);
            if (n > 2) s22 += Avx512BW.MultiplyAddAdjacent(b, w2);
            if (n > 3) s23 += Avx512BW.MultiplyAddAdjacent(b, w3);
            b = Vector512.Create(x3[k]).AsByte();
            s30 += Avx512BW.MultiplyAddAdjacent(b, w0);
            if (n > 1) s31 += Avx512BW.MultiplyAddAdjacent(b, w1);
            if (n > 2) s32 += Avx512BW.MultiplyAddAdjacent(b, w2);
            if (n > 3) s33 += Avx512BW.MultiplyAddAdjacent(b, w3);
            if (--left == 0 || k == units - 1)
            {
                Widen(acc, s00); s00 = default;
                if (n > 1) { Widen(acc + 16, s01); s01 = default; }
                if (n > 2) { Widen(acc + 32, s02); s02 = default; }
                if (n > 3) { Widen(acc + 48, s03); s03 = default; }
                Widen(acc + 64, s10); s10 = default;
                if (n > 1) { Widen(acc + 80, s11); s11 = default; }
                if (n > 2) { Widen(acc + 96, s12); s12 = default; }
                if (n > 3) { Widen(acc + 112, s13); s13 = default; }
                Widen(acc + 128, s20); s20 = default;
                if (n > 1) { Widen(acc + 144, s21); s21 = default; }
                if (n > 2) { Widen(acc + 160, s22); s22 = default; }
                if (n > 3) { Widen(acc + 176, s23); s23 = default; }
                Widen(acc + 192, s30); s30 = default;
                if (n > 1) { Widen(acc + 208, s31); s31 = default; }
                if (n > 2) { Widen(acc + 224, s32); s32 = default; }
                if (n > 3) { Widen(acc + 240, s33); s33 = default; }
                left = stepsPerWiden;
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void Widen(int* acc, Vector512<short> s) =>
            (Vector512.Load(acc) + Avx512BW.MultiplyAddAdjacent(s, Vector512.Create((short)1))).Store(acc);
    }

    /// <summary>The 256-bit form on 16 of the panel's outputs: 4 rows × 2 vectors of 8, 8 int16 accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Madd16Avx2(int* x0, int* x1, int* x2, int* x3, int* w, int units, int stepsPerWiden, int* acc)
    {
        for (int m = 0; m < 4; m++)
        {
            Vector256<int>.Zero.Store(acc + m * Panel);
            Vector256<int>.Zero.Store(acc + m * Panel + 8);
        }
        Vector256<short> s00 = default, s01 = default, s10 = default, s11 = default, s20 = default, s21 = default, s30 = default, s31 = default;
        int left = stepsPerWiden;
        for (int k = 0; k < units; k++, w += Panel)
        {
            var w0 = Vector256.Load((sbyte*)w);
            var w1 = Vector256.Load((sbyte*)(w + 8));
            var b = Vector256.Create(x0[k]).AsByte();
            s00 += Avx2.MultiplyAddAdjacent(b, w0);
            s01 += Avx2.MultiplyAddAdjacent(b, w1);
            b = Vector256.Create(x1[k]).AsByte();
            s10 += Avx2.MultiplyAddAdjacent(b, w0);
            s11 += Avx2.MultiplyAddAdjacent(b, w1);
            b = Vector256.Create(x2[k]).AsByte();
            s20 += Avx2.MultiplyAddAdjacent(b, w0);
            s21 += Avx2.MultiplyAddAdjacent(b, w1);
            b = Vector256.Create(x3[k]).AsByte();
            s30 += Avx2.MultiplyAddAdjacent(b, w0);
            s31 += Avx2.MultiplyAddAdjacent(b, w1);
            if (--left == 0 || k == units - 1)
            {
                Widen(acc, s00); Widen(acc + 8, s01);
                Widen(acc + 64, s10); Widen(acc + 72, s11);
                Widen(acc + 128, s20); Widen(acc + 136, s21);
                Widen(acc + 192, s30); Widen(acc + 200, s31);
                s00 = s01 = s10 = s11 = s20 = s21 = s30 = s31 = default;
                left = stepsPerWiden;
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void Widen(int* acc, Vector256<short> s) =>
            (Vector256.Load(acc) + Avx2.MultiplyAddAdjacent(s, Vector256.Create((short)1))).Store(acc);
    }
}
