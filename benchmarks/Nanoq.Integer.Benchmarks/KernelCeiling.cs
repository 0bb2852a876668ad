using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Nanoq.Kernels;
using Nanoq.Kernels.Integer;

namespace Nanoq.Integer.Benchmarks;

/// <summary>
/// <c>--ceiling</c>: what one core allows the 4-bit conv's micro-kernel (<see cref="IntConvMicroKernels.Madd16"/>), one
/// thread, nothing from beyond L1. Four rows, in multiply-adds per second:
/// <list type="number">
/// <item><c>vpmaddubsw</c> alone: 16 register accumulators a step, each step's inputs the previous step's results (so
/// nothing is loop-invariant), 64 u8·s8 products an instruction — the multiplier's ceiling;</item>
/// <item><c>vpmaddubsw</c> + <c>vpaddw</c>: the same with each result added into an int16 accumulator — the kernel's
/// instruction mix (the sums of products must be kept: without VNNI's <c>vpdpbusd</c> the add is a second instruction);</item>
/// <item>the kernel itself on a tile of a 64-channel 3×3 conv (9 taps × 16 channel units of 4 channels, 64 positions × 4
/// output channels), its panels in L1;</item>
/// <item>for scale, 12 register-only <c>Vector512</c> FMA chains (16 multiply-adds each): 1 per cycle on Zen 4, 2 on
/// Zen 5, so the first three rows over this one are multiply-adds per FMA issue;</item>
/// <item>the second row's mix with 8 FMA chains in the same loop: whether float FMAs find pipes the integer mix leaves
/// idle (4-bit products sum exactly in float32, so a kernel could split its work between the two);</item>
/// <item><c>vpmaddubsw</c> + <c>vpmaddwd</c> (by ones) + <c>vpaddd</c>: products summed in int32 — what an integer Winograd
/// F(2 × 2, 3 × 3) would need (its transformed products overflow int16 sums), at 2.25× fewer multiply-adds.</item>
/// </list>
/// AVX-512 only (the rows are 512-bit code); each row runs 1.5 s of warm-up and 2 s timed, twice.
/// </summary>
internal static unsafe class KernelCeiling
{
    public static void Run()
    {
        if (!Simd.Is512)
        {
            Console.WriteLine("--ceiling needs AVX-512 (BW): this CPU or NANOQ_MAX_ISA runs another level.");
            return;
        }
        const int taps = 9, units = 16, unitStride = 64;
        int* a = (int*)NativeMemory.AlignedAlloc(taps * units * 4 * sizeof(int), 64);
        int* b = (int*)NativeMemory.AlignedAlloc((nuint)((2 * 58 + 3 + units * unitStride) * sizeof(int)), 64);
        int* acc = (int*)NativeMemory.AlignedAlloc(256 * sizeof(int), 64);
        int* offsets = (int*)NativeMemory.AlignedAlloc(taps * sizeof(int), 64);
        var rng = new Random(5);
        for (int i = 0; i < taps * units * 4; i++) a[i] = rng.Next() & 0x07070707;          // 4-bit weights, s8 lanes
        for (int i = 0; i < 2 * 58 + 3 + units * unitStride; i++) b[i] = rng.Next() & 0x0F0F0F0F;  // 4-bit codes
        for (int t = 0; t < taps; t++) offsets[t] = t / 3 * 58 + t % 3;                  // a padded row of 58
        long kernelMacs = (long)taps * units * 64 * 4 * 4;
        for (int round = 0; round < 2; round++)
        {
            double madd = Rate(() => MaddOnly(1000), 1000L * 16 * 64);
            double mix = Rate(() => MaddAdd(1000), 1000L * 16 * 64);
            double kernel = Rate(() => { for (int i = 0; i < 10; i++) IntConvMicroKernels.Madd16(4, a, b, offsets, taps, units, unitStride, 72, acc); }, 10 * kernelMacs);
            double fma = Rate(() => Fma(1000), 1000L * 12 * 16);
            // the mix with 8 FMA chains in the same loop: steps per second, so each side's rate
            double steps = Rate(() => MaddAddFma(1000), 1000);
            double wide = Rate(() => MaddWide(1000), 1000L * 16 * 64);
            Console.WriteLine($"round {round + 1}: vpmaddubsw alone {madd / 1e9,6:F1}, + vpaddw {mix / 1e9,6:F1}, Madd16 in L1 {kernel / 1e9,6:F1} GMAC/s; " +
                              $"FMA {fma / 1e9,5:F1} G/s -> {madd / fma:F1} / {mix / fma:F1} / {kernel / fma:F1} multiply-adds per FMA issue; " +
                              $"the mix beside 8 FMA chains: {steps * 16 * 64 / 1e9:F1} G int + {steps * 8 * 16 / 1e9:F1} G float multiply-adds/s; " +
                              $"int32 sums (+ vpmaddwd + vpaddd) {wide / 1e9:F1} GMAC/s, x 2.25 = {wide * 2.25 / kernel:F2}x Madd16's");
        }
        NativeMemory.AlignedFree(a);
        NativeMemory.AlignedFree(b);
        NativeMemory.AlignedFree(acc);
        NativeMemory.AlignedFree(offsets);
    }

    /// <summary>Work items per second of <paramref name="body"/> (which does <paramref name="items"/>), after 1.5 s of warm-up.</summary>
    private static double Rate(Action body, long items)
    {
        var sw = Stopwatch.StartNew();
        while (sw.ElapsedMilliseconds < 1500) body();
        long calls = 0;
        sw.Restart();
        while (sw.ElapsedMilliseconds < 2000) { body(); calls++; }
        return calls * (double)items / sw.Elapsed.TotalSeconds;
    }

    public static long Sink;

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void MaddOnly(int steps)
    {
        var w0 = Vector512.Create((sbyte)3); var w1 = Vector512.Create((sbyte)-2); var w2 = Vector512.Create((sbyte)5); var w3 = Vector512.Create((sbyte)-7);
        Vector512<short> s00 = Vector512.Create((short)1), s01 = Vector512.Create((short)2), s02 = Vector512.Create((short)3), s03 = Vector512.Create((short)4);
        Vector512<short> s10 = s00, s11 = s01, s12 = s02, s13 = s03, s20 = s00, s21 = s01, s22 = s02, s23 = s03, s30 = s00, s31 = s01, s32 = s02, s33 = s03;
        for (int i = 0; i < steps; i++)
        {
            // this step's "inputs" are the last step's results: nothing can be hoisted out of the loop.
            var b0 = s30.AsByte(); var b1 = s31.AsByte(); var b2 = s32.AsByte(); var b3 = s33.AsByte();
            s00 = Avx512BW.MultiplyAddAdjacent(b0, w0); s01 = Avx512BW.MultiplyAddAdjacent(b1, w0); s02 = Avx512BW.MultiplyAddAdjacent(b2, w0); s03 = Avx512BW.MultiplyAddAdjacent(b3, w0);
            s10 = Avx512BW.MultiplyAddAdjacent(b0, w1); s11 = Avx512BW.MultiplyAddAdjacent(b1, w1); s12 = Avx512BW.MultiplyAddAdjacent(b2, w1); s13 = Avx512BW.MultiplyAddAdjacent(b3, w1);
            s20 = Avx512BW.MultiplyAddAdjacent(b0, w2); s21 = Avx512BW.MultiplyAddAdjacent(b1, w2); s22 = Avx512BW.MultiplyAddAdjacent(b2, w2); s23 = Avx512BW.MultiplyAddAdjacent(b3, w2);
            s30 = Avx512BW.MultiplyAddAdjacent(b0, w3); s31 = Avx512BW.MultiplyAddAdjacent(b1, w3); s32 = Avx512BW.MultiplyAddAdjacent(b2, w3); s33 = Avx512BW.MultiplyAddAdjacent(b3, w3);
        }
        Sink += (s00 ^ s01 ^ s02 ^ s03 ^ s10 ^ s11 ^ s12 ^ s13 ^ s20 ^ s21 ^ s22 ^ s23 ^ s30 ^ s31 ^ s32 ^ s33).GetElement(0);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void MaddAdd(int steps)
    {
        var w0 = Vector512.Create((sbyte)3); var w1 = Vector512.Create((sbyte)-2); var w2 = Vector512.Create((sbyte)5); var w3 = Vector512.Create((sbyte)-7);
        Vector512<short> s00 = Vector512.Create((short)1), s01 = Vector512.Create((short)2), s02 = Vector512.Create((short)3), s03 = Vector512.Create((short)4);
        Vector512<short> s10 = s00, s11 = s01, s12 = s02, s13 = s03, s20 = s00, s21 = s01, s22 = s02, s23 = s03, s30 = s00, s31 = s01, s32 = s02, s33 = s03;
        for (int i = 0; i < steps; i++)
        {
            var b0 = s30.AsByte(); var b1 = s31.AsByte(); var b2 = s32.AsByte(); var b3 = s33.AsByte();
            s00 += Avx512BW.MultiplyAddAdjacent(b0, w0); s01 += Avx512BW.MultiplyAddAdjacent(b1, w0); s02 += Avx512BW.MultiplyAddAdjacent(b2, w0); s03 += Avx512BW.MultiplyAddAdjacent(b3, w0);
            s10 += Avx512BW.MultiplyAddAdjacent(b0, w1); s11 += Avx512BW.MultiplyAddAdjacent(b1, w1); s12 += Avx512BW.MultiplyAddAdjacent(b2, w1); s13 += Avx512BW.MultiplyAddAdjacent(b3, w1);
            s20 += Avx512BW.MultiplyAddAdjacent(b0, w2); s21 += Avx512BW.MultiplyAddAdjacent(b1, w2); s22 += Avx512BW.MultiplyAddAdjacent(b2, w2); s23 += Avx512BW.MultiplyAddAdjacent(b3, w2);
            s30 += Avx512BW.MultiplyAddAdjacent(b0, w3); s31 += Avx512BW.MultiplyAddAdjacent(b1, w3); s32 += Avx512BW.MultiplyAddAdjacent(b2, w3); s33 += Avx512BW.MultiplyAddAdjacent(b3, w3);
        }
        Sink += (s00 ^ s01 ^ s02 ^ s03 ^ s10 ^ s11 ^ s12 ^ s13 ^ s20 ^ s21 ^ s22 ^ s23 ^ s30 ^ s31 ^ s32 ^ s33).GetElement(0);
    }

    /// <summary>
    /// <see cref="MaddAdd"/>'s step with the int16 pair sums widened to int32 before they are kept (<c>vpmaddwd</c> by
    /// ones, then <c>vpaddd</c>): three instructions per 64 products instead of two.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void MaddWide(int steps)
    {
        var w0 = Vector512.Create((sbyte)3); var w1 = Vector512.Create((sbyte)-2); var w2 = Vector512.Create((sbyte)5); var w3 = Vector512.Create((sbyte)-7);
        var ones = Vector512.Create((short)1);
        Vector512<int> s00 = Vector512.Create(1), s01 = Vector512.Create(2), s02 = Vector512.Create(3), s03 = Vector512.Create(4);
        Vector512<int> s10 = s00, s11 = s01, s12 = s02, s13 = s03, s20 = s00, s21 = s01, s22 = s02, s23 = s03, s30 = s00, s31 = s01, s32 = s02, s33 = s03;
        for (int i = 0; i < steps; i++)
        {
            var b0 = s30.AsByte(); var b1 = s31.AsByte(); var b2 = s32.AsByte(); var b3 = s33.AsByte();
            s00 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(b0, w0), ones); s01 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(b1, w0), ones);
            s02 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(b2, w0), ones); s03 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(b3, w0), ones);
            s10 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(b0, w1), ones); s11 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(b1, w1), ones);
            s12 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(b2, w1), ones); s13 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(b3, w1), ones);
            s20 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(b0, w2), ones); s21 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(b1, w2), ones);
            s22 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(b2, w2), ones); s23 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(b3, w2), ones);
            s30 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(b0, w3), ones); s31 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(b1, w3), ones);
            s32 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(b2, w3), ones); s33 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(b3, w3), ones);
        }
        Sink += (s00 ^ s01 ^ s02 ^ s03 ^ s10 ^ s11 ^ s12 ^ s13 ^ s20 ^ s21 ^ s22 ^ s23 ^ s30 ^ s31 ^ s32 ^ s33).GetElement(0);
    }

    /// <summary><see cref="MaddAdd"/>'s step with 8 independent FMA chains beside it: do the FMAs find pipes the integer
    /// mix leaves idle (the int rate holds while the float one adds), or do they share them?</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void MaddAddFma(int steps)
    {
        var w0 = Vector512.Create((sbyte)3); var w1 = Vector512.Create((sbyte)-2); var w2 = Vector512.Create((sbyte)5); var w3 = Vector512.Create((sbyte)-7);
        Vector512<short> s00 = Vector512.Create((short)1), s01 = Vector512.Create((short)2), s02 = Vector512.Create((short)3), s03 = Vector512.Create((short)4);
        Vector512<short> s10 = s00, s11 = s01, s12 = s02, s13 = s03, s20 = s00, s21 = s01, s22 = s02, s23 = s03, s30 = s00, s31 = s01, s32 = s02, s33 = s03;
        var m = Vector512.Create(0.999999f); var c = Vector512.Create(1e-7f);
        Vector512<float> f0 = Vector512.Create(1f), f1 = f0, f2 = f0, f3 = f0, f4 = f0, f5 = f0, f6 = f0, f7 = f0;
        for (int i = 0; i < steps; i++)
        {
            var b0 = s30.AsByte(); var b1 = s31.AsByte(); var b2 = s32.AsByte(); var b3 = s33.AsByte();
            s00 += Avx512BW.MultiplyAddAdjacent(b0, w0); s01 += Avx512BW.MultiplyAddAdjacent(b1, w0); s02 += Avx512BW.MultiplyAddAdjacent(b2, w0); s03 += Avx512BW.MultiplyAddAdjacent(b3, w0);
            f0 = Avx512F.FusedMultiplyAdd(f0, m, c); f1 = Avx512F.FusedMultiplyAdd(f1, m, c);
            s10 += Avx512BW.MultiplyAddAdjacent(b0, w1); s11 += Avx512BW.MultiplyAddAdjacent(b1, w1); s12 += Avx512BW.MultiplyAddAdjacent(b2, w1); s13 += Avx512BW.MultiplyAddAdjacent(b3, w1);
            f2 = Avx512F.FusedMultiplyAdd(f2, m, c); f3 = Avx512F.FusedMultiplyAdd(f3, m, c);
            s20 += Avx512BW.MultiplyAddAdjacent(b0, w2); s21 += Avx512BW.MultiplyAddAdjacent(b1, w2); s22 += Avx512BW.MultiplyAddAdjacent(b2, w2); s23 += Avx512BW.MultiplyAddAdjacent(b3, w2);
            f4 = Avx512F.FusedMultiplyAdd(f4, m, c); f5 = Avx512F.FusedMultiplyAdd(f5, m, c);
            s30 += Avx512BW.MultiplyAddAdjacent(b0, w3); s31 += Avx512BW.MultiplyAddAdjacent(b1, w3); s32 += Avx512BW.MultiplyAddAdjacent(b2, w3); s33 += Avx512BW.MultiplyAddAdjacent(b3, w3);
            f6 = Avx512F.FusedMultiplyAdd(f6, m, c); f7 = Avx512F.FusedMultiplyAdd(f7, m, c);
        }
        Sink += (s00 ^ s01 ^ s02 ^ s03 ^ s10 ^ s11 ^ s12 ^ s13 ^ s20 ^ s21 ^ s22 ^ s23 ^ s30 ^ s31 ^ s32 ^ s33).GetElement(0)
                + (long)(f0 + f1 + f2 + f3 + f4 + f5 + f6 + f7).GetElement(0);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Fma(int steps)
    {
        var m = Vector512.Create(0.999999f); var c = Vector512.Create(1e-7f);
        Vector512<float> f0 = Vector512.Create(1f), f1 = f0, f2 = f0, f3 = f0, f4 = f0, f5 = f0, f6 = f0, f7 = f0, f8 = f0, f9 = f0, f10 = f0, f11 = f0;
        for (int i = 0; i < steps; i++)
        {
            f0 = Avx512F.FusedMultiplyAdd(f0, m, c); f1 = Avx512F.FusedMultiplyAdd(f1, m, c); f2 = Avx512F.FusedMultiplyAdd(f2, m, c); f3 = Avx512F.FusedMultiplyAdd(f3, m, c);
            f4 = Avx512F.FusedMultiplyAdd(f4, m, c); f5 = Avx512F.FusedMultiplyAdd(f5, m, c); f6 = Avx512F.FusedMultiplyAdd(f6, m, c); f7 = Avx512F.FusedMultiplyAdd(f7, m, c);
            f8 = Avx512F.FusedMultiplyAdd(f8, m, c); f9 = Avx512F.FusedMultiplyAdd(f9, m, c); f10 = Avx512F.FusedMultiplyAdd(f10, m, c); f11 = Avx512F.FusedMultiplyAdd(f11, m, c);
        }
        Sink += (long)(f0 + f1 + f2 + f3 + f4 + f5 + f6 + f7 + f8 + f9 + f10 + f11).GetElement(0);
    }
}
