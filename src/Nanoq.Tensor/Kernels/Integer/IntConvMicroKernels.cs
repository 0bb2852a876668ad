using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nanoq.Kernels.Integer;

/// <summary>
/// The register-blocked inner products of <see cref="IntConv2d"/>: a tile of 4 output channels (the packed weight
/// units a, one broadcast per channel) × 64 positions (the interleaved input units b, 16 int32
/// lanes a vector, each lane U input channels of one position), summed over taps and channel units:
/// <code>
///     acc[m][p] = Σ_{t &lt; taps} Σ_{k &lt; units} dot(a[(t·units + k)·4 + m], b[tapOffsets[t] + k·unitStride + p])
/// </code>
/// where dot multiplies the U sub-lanes pairwise and adds them. acc is [4][64] ints, overwritten. Straight-line code
/// keeps the 16 accumulators in registers. Without AVX-512 (<see cref="Simd.Level"/> AVX2) the tile goes through
/// 256-bit forms a quarter (16 positions) at a time: 4 channels × 2 vectors, 8 accumulators of AVX2's 16 registers,
/// the same steps in the same order, so the same exact sums.
/// </summary>
internal static unsafe class IntConvMicroKernels
{
    /// <summary>
    /// u8 × s8 with 16-bit accumulation (<see cref="IntConvPath.Madd16"/>): for a 4-channel × 64-position tile,
    /// s[m][n] += vpmaddubsw(b[n], broadcast(a[m])) for <paramref name="stepsPerWiden"/> steps (exact: see the path's
    /// bound), then acc[m][n] += vpmaddwd(s[m][n], 1) in int32 and s restarts at 0. A step is one (tap, channel unit):
    /// 4 input channels of 64 positions against 4 weights of 4 output channels. Only the first 16·<paramref name="live"/>
    /// positions are computed (1–4 vectors: a tile of a small map holds fewer real positions); acc rows keep their stride
    /// of 64, and lanes past the live ones are left as they were.
    /// </summary>
    public static void Madd16(int live, int* a, int* b, int* tapOffsets, int taps, int units, nint unitStride, int stepsPerWiden, int* acc)
    {
        if (!Simd.Is512)
        {
            for (int v = 0; v < live; v++) Madd16Avx2(a, b + 16 * v, tapOffsets, taps, units, unitStride, stepsPerWiden, acc + 16 * v);
            return;
        }
        switch (live)
        {
            case 1: Madd16<Live1>(a, b, tapOffsets, taps, units, unitStride, stepsPerWiden, acc); break;
            case 2: Madd16<Live2>(a, b, tapOffsets, taps, units, unitStride, stepsPerWiden, acc); break;
            case 3: Madd16<Live3>(a, b, tapOffsets, taps, units, unitStride, stepsPerWiden, acc); break;
            default: Madd16<Live4>(a, b, tapOffsets, taps, units, unitStride, stepsPerWiden, acc); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Madd16<TLive>(int* a, int* b, int* tapOffsets, int taps, int units, nint unitStride, int stepsPerWiden, int* acc)
        where TLive : struct, ILiveVectors
    {
        int n = TLive.Count;
        for (int m = 0; m < 4; m++)
            for (int v = 0; v < n; v++) Vector512<int>.Zero.Store(acc + m * 64 + v * 16);
        var ones = Vector512.Create((short)1);
        Vector512<short> s00 = default; Vector512<short> s01 = default; Vector512<short> s02 = default; Vector512<short> s03 = default; Vector512<short> s10 = default; Vector512<short> s11 = default; Vector512<short> s12 = default; Vector512<short> s13 = default; Vector512<short> s20 = default; Vector512<short> s21 = default; Vector512<short> s22 = default; Vector512<short> s23 = default; Vector512<short> s30 = default; Vector512<short> s31 = default; Vector512<short> s32 = default; Vector512<short> s33 = default;
        int left = stepsPerWiden;
        for (int t = 0; t < taps; t++)
        {
            int* bt = b + tapOffsets[t];
            for (int k = 0; k < units; k++)
            {
                var b0 = Vector512.Load((byte*)bt);
                var b1 = n > 1 ? Vector512.Load((byte*)(bt + 16)) : default;
                var b2 = n > 2 ? Vector512.Load((byte*)(bt + 32)) : default;
                var b3 = n > 3 ? Vector512.Load((byte*)(bt + 48)) : default;
                var w0 = Vector512.Create(a[0]).AsSByte();
                s00 += Avx512BW.MultiplyAddAdjacent(b0, w0);
                if (n > 1) s01 += Avx512BW.MultiplyAddAdjacent(b1, w0);
                if (n > 2) s02 += Avx512BW.MultiplyAddAdjacent(b2, w0);
                if (n > 3) s03 += Avx512BW.MultiplyAddAdjacent(b3, w0);
                var w1 = Vector512.Create(a[1]).AsSByte();
                s10 += Avx512BW.MultiplyAddAdjacent(b0, w1);
                if (n > 1) s11 += Avx512BW.MultiplyAddAdjacent(b1, w1);
                if (n > 2) s12 += Avx512BW.MultiplyAddAdjacent(b2, w1);
                if (n > 3) s13 += Avx512BW.MultiplyAddAdjacent(b3, w1);
                var w2 = Vector512.Create(a[2]).AsSByte();
                s20 += Avx512BW.MultiplyAddAdjacent(b0, w2);
                if (n > 1) s21 += Avx512BW.MultiplyAddAdjacent(b1, w2);
                if (n > 2) s22 += Avx512BW.MultiplyAddAdjacent(b2, w2);
                if (n > 3) s23 += Avx512BW.MultiplyAddAdjacent(b3, w2);
                var w3 = Vector512.Create(a[3]).AsSByte();
                s30 += Avx512BW.MultiplyAddAdjacent(b0, w3);
                if (n > 1) s31 += Avx512BW.MultiplyAddAdjacent(b1, w3);
                if (n > 2) s32 += Avx512BW.MultiplyAddAdjacent(b2, w3);
                if (n > 3) s33 += Avx512BW.MultiplyAddAdjacent(b3, w3);
                a += 4;
                bt += unitStride;
                if (--left == 0)
                {
                    { Widen(acc + 0, s00, ones); s00 = default; }
                    if (n > 1) { Widen(acc + 16, s01, ones); s01 = default; }
                    if (n > 2) { Widen(acc + 32, s02, ones); s02 = default; }
                    if (n > 3) { Widen(acc + 48, s03, ones); s03 = default; }
                    { Widen(acc + 64, s10, ones); s10 = default; }
                    if (n > 1) { Widen(acc + 80, s11, ones); s11 = default; }
                    if (n > 2) { Widen(acc + 96, s12, ones); s12 = default; }
                    if (n > 3) { Widen(acc + 112, s13, ones); s13 = default; }
                    { Widen(acc + 128, s20, ones); s20 = default; }
                    if (n > 1) { Widen(acc + 144, s21, ones); s21 = default; }
                    if (n > 2) { Widen(acc + 160, s22, ones); s22 = default; }
                    if (n > 3) { Widen(acc + 176, s23, ones); s23 = default; }
                    { Widen(acc + 192, s30, ones); s30 = default; }
                    if (n > 1) { Widen(acc + 208, s31, ones); s31 = default; }
                    if (n > 2) { Widen(acc + 224, s32, ones); s32 = default; }
                    if (n > 3) { Widen(acc + 240, s33, ones); s33 = default; }
                    left = stepsPerWiden;
                }
            }
        }
        Widen(acc + 0, s00, ones);
        if (n > 1) Widen(acc + 16, s01, ones);
        if (n > 2) Widen(acc + 32, s02, ones);
        if (n > 3) Widen(acc + 48, s03, ones);
        Widen(acc + 64, s10, ones);
        if (n > 1) Widen(acc + 80, s11, ones);
        if (n > 2) Widen(acc + 96, s12, ones);
        if (n > 3) Widen(acc + 112, s13, ones);
        Widen(acc + 128, s20, ones);
        if (n > 1) Widen(acc + 144, s21, ones);
        if (n > 2) Widen(acc + 160, s22, ones);
        if (n > 3) Widen(acc + 176, s23, ones);
        Widen(acc + 192, s30, ones);
        if (n > 1) Widen(acc + 208, s31, ones);
        if (n > 2) Widen(acc + 224, s32, ones);
        if (n > 3) Widen(acc + 240, s33, ones);
    }

    /// <summary>
    /// The 256-bit (AVX2) form of <see cref="Madd16"/> on 16 of the tile's positions: 4 channels × 2 vectors of 8
    /// positions, 8 int16 accumulators — with the 2 loads of b and the broadcast of a, 11 of AVX2's 16 registers (a
    /// 4 × 4 block would need 16 accumulators alone). The same steps in the same order, so the same exact sums.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Madd16Avx2(int* a, int* b, int* tapOffsets, int taps, int units, nint unitStride, int stepsPerWiden, int* acc)
    {
        for (int m = 0; m < 4; m++)
        {
            Vector256<int>.Zero.Store(acc + m * 64);
            Vector256<int>.Zero.Store(acc + m * 64 + 8);
        }
        var ones = Vector256.Create((short)1);
        Vector256<short> s00 = default, s01 = default, s10 = default, s11 = default, s20 = default, s21 = default, s30 = default, s31 = default;
        int left = stepsPerWiden;
        for (int t = 0; t < taps; t++)
        {
            int* bt = b + tapOffsets[t];
            for (int k = 0; k < units; k++)
            {
                var b0 = Vector256.Load((byte*)bt);
                var b1 = Vector256.Load((byte*)(bt + 8));
                var w0 = Vector256.Create(a[0]).AsSByte();
                s00 += Avx2.MultiplyAddAdjacent(b0, w0);
                s01 += Avx2.MultiplyAddAdjacent(b1, w0);
                var w1 = Vector256.Create(a[1]).AsSByte();
                s10 += Avx2.MultiplyAddAdjacent(b0, w1);
                s11 += Avx2.MultiplyAddAdjacent(b1, w1);
                var w2 = Vector256.Create(a[2]).AsSByte();
                s20 += Avx2.MultiplyAddAdjacent(b0, w2);
                s21 += Avx2.MultiplyAddAdjacent(b1, w2);
                var w3 = Vector256.Create(a[3]).AsSByte();
                s30 += Avx2.MultiplyAddAdjacent(b0, w3);
                s31 += Avx2.MultiplyAddAdjacent(b1, w3);
                a += 4;
                bt += unitStride;
                if (--left == 0)
                {
                    Widen(acc + 0, s00, ones); Widen(acc + 8, s01, ones);
                    Widen(acc + 64, s10, ones); Widen(acc + 72, s11, ones);
                    Widen(acc + 128, s20, ones); Widen(acc + 136, s21, ones);
                    Widen(acc + 192, s30, ones); Widen(acc + 200, s31, ones);
                    s00 = s01 = s10 = s11 = s20 = s21 = s30 = s31 = default;
                    left = stepsPerWiden;
                }
            }
        }
        Widen(acc + 0, s00, ones); Widen(acc + 8, s01, ones);
        Widen(acc + 64, s10, ones); Widen(acc + 72, s11, ones);
        Widen(acc + 128, s20, ones); Widen(acc + 136, s21, ones);
        Widen(acc + 192, s30, ones); Widen(acc + 200, s31, ones);
    }

    /// <summary>
    /// s16 × s16 into int32 (<see cref="IntConvPath.Int16"/>): acc[m][n] += vpmaddwd(b[n], broadcast(a[m])) where a unit
    /// holds 2 input channels of one tap; exact for any 8-bit codes. Without AVX-512: four 16-position quarters of the
    /// tile, each 4 channels × 2 vectors (<see cref="Int16Avx2"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Int16(int* a, int* b, int* tapOffsets, int taps, int units, nint unitStride, int* acc)
    {
        if (!Simd.Is512)
        {
            for (int v = 0; v < 4; v++) Int16Avx2(a, b + 16 * v, tapOffsets, taps, units, unitStride, acc + 16 * v);
            return;
        }
        Vector512<int> c00 = default; Vector512<int> c01 = default; Vector512<int> c02 = default; Vector512<int> c03 = default; Vector512<int> c10 = default; Vector512<int> c11 = default; Vector512<int> c12 = default; Vector512<int> c13 = default; Vector512<int> c20 = default; Vector512<int> c21 = default; Vector512<int> c22 = default; Vector512<int> c23 = default; Vector512<int> c30 = default; Vector512<int> c31 = default; Vector512<int> c32 = default; Vector512<int> c33 = default;
        for (int t = 0; t < taps; t++)
        {
            int* bt = b + tapOffsets[t];
            for (int k = 0; k < units; k++)
            {
                var b0 = Vector512.Load((short*)(bt + 0));
                var b1 = Vector512.Load((short*)(bt + 16));
                var b2 = Vector512.Load((short*)(bt + 32));
                var b3 = Vector512.Load((short*)(bt + 48));
                var w0 = Vector512.Create(a[0]).AsInt16();
                c00 += Avx512BW.MultiplyAddAdjacent(b0, w0);
                c01 += Avx512BW.MultiplyAddAdjacent(b1, w0);
                c02 += Avx512BW.MultiplyAddAdjacent(b2, w0);
                c03 += Avx512BW.MultiplyAddAdjacent(b3, w0);
                var w1 = Vector512.Create(a[1]).AsInt16();
                c10 += Avx512BW.MultiplyAddAdjacent(b0, w1);
                c11 += Avx512BW.MultiplyAddAdjacent(b1, w1);
                c12 += Avx512BW.MultiplyAddAdjacent(b2, w1);
                c13 += Avx512BW.MultiplyAddAdjacent(b3, w1);
                var w2 = Vector512.Create(a[2]).AsInt16();
                c20 += Avx512BW.MultiplyAddAdjacent(b0, w2);
                c21 += Avx512BW.MultiplyAddAdjacent(b1, w2);
                c22 += Avx512BW.MultiplyAddAdjacent(b2, w2);
                c23 += Avx512BW.MultiplyAddAdjacent(b3, w2);
                var w3 = Vector512.Create(a[3]).AsInt16();
                c30 += Avx512BW.MultiplyAddAdjacent(b0, w3);
                c31 += Avx512BW.MultiplyAddAdjacent(b1, w3);
                c32 += Avx512BW.MultiplyAddAdjacent(b2, w3);
                c33 += Avx512BW.MultiplyAddAdjacent(b3, w3);
                a += 4;
                bt += unitStride;
            }
        }
        c00.Store(acc + 0);
        c01.Store(acc + 16);
        c02.Store(acc + 32);
        c03.Store(acc + 48);
        c10.Store(acc + 64);
        c11.Store(acc + 80);
        c12.Store(acc + 96);
        c13.Store(acc + 112);
        c20.Store(acc + 128);
        c21.Store(acc + 144);
        c22.Store(acc + 160);
        c23.Store(acc + 176);
        c30.Store(acc + 192);
        c31.Store(acc + 208);
        c32.Store(acc + 224);
        c33.Store(acc + 240);
    }

    /// <summary>The 256-bit form of <see cref="Int16"/> on 16 of the tile's positions: 4 channels × 2 vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Int16Avx2(int* a, int* b, int* tapOffsets, int taps, int units, nint unitStride, int* acc)
    {
        Vector256<int> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        for (int t = 0; t < taps; t++)
        {
            int* bt = b + tapOffsets[t];
            for (int k = 0; k < units; k++)
            {
                var b0 = Vector256.Load((short*)bt);
                var b1 = Vector256.Load((short*)(bt + 8));
                var w0 = Vector256.Create(a[0]).AsInt16();
                c00 += Avx2.MultiplyAddAdjacent(b0, w0);
                c01 += Avx2.MultiplyAddAdjacent(b1, w0);
                var w1 = Vector256.Create(a[1]).AsInt16();
                c10 += Avx2.MultiplyAddAdjacent(b0, w1);
                c11 += Avx2.MultiplyAddAdjacent(b1, w1);
                var w2 = Vector256.Create(a[2]).AsInt16();
                c20 += Avx2.MultiplyAddAdjacent(b0, w2);
                c21 += Avx2.MultiplyAddAdjacent(b1, w2);
                var w3 = Vector256.Create(a[3]).AsInt16();
                c30 += Avx2.MultiplyAddAdjacent(b0, w3);
                c31 += Avx2.MultiplyAddAdjacent(b1, w3);
                a += 4;
                bt += unitStride;
            }
        }
        c00.Store(acc + 0); c01.Store(acc + 8);
        c10.Store(acc + 64); c11.Store(acc + 72);
        c20.Store(acc + 128); c21.Store(acc + 136);
        c30.Store(acc + 192); c31.Store(acc + 200);
    }

    /// <summary>
    /// u8 × s8 straight into int32 with AVX-VNNI <c>vpdpbusd</c> (<see cref="IntConvPath.Vnni"/>), 256-bit: one half
    /// (32 positions) of the tile per call, <paramref name="acc"/> pointing at that half of row 0 (rows 64 ints apart).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Vnni(int* a, int* b, int* tapOffsets, int taps, int units, nint unitStride, int* acc)
    {
        Vector256<int> c00 = default; Vector256<int> c01 = default; Vector256<int> c02 = default; Vector256<int> c03 = default; Vector256<int> c10 = default; Vector256<int> c11 = default; Vector256<int> c12 = default; Vector256<int> c13 = default; Vector256<int> c20 = default; Vector256<int> c21 = default; Vector256<int> c22 = default; Vector256<int> c23 = default; Vector256<int> c30 = default; Vector256<int> c31 = default; Vector256<int> c32 = default; Vector256<int> c33 = default;
        for (int t = 0; t < taps; t++)
        {
            int* bt = b + tapOffsets[t];
            for (int k = 0; k < units; k++)
            {
                var b0 = Vector256.Load((byte*)(bt + 0));
                var b1 = Vector256.Load((byte*)(bt + 8));
                var b2 = Vector256.Load((byte*)(bt + 16));
                var b3 = Vector256.Load((byte*)(bt + 24));
                var w0 = Vector256.Create(a[0]).AsSByte();
                c00 = AvxVnni.MultiplyWideningAndAdd(c00, b0, w0);
                c01 = AvxVnni.MultiplyWideningAndAdd(c01, b1, w0);
                c02 = AvxVnni.MultiplyWideningAndAdd(c02, b2, w0);
                c03 = AvxVnni.MultiplyWideningAndAdd(c03, b3, w0);
                var w1 = Vector256.Create(a[1]).AsSByte();
                c10 = AvxVnni.MultiplyWideningAndAdd(c10, b0, w1);
                c11 = AvxVnni.MultiplyWideningAndAdd(c11, b1, w1);
                c12 = AvxVnni.MultiplyWideningAndAdd(c12, b2, w1);
                c13 = AvxVnni.MultiplyWideningAndAdd(c13, b3, w1);
                var w2 = Vector256.Create(a[2]).AsSByte();
                c20 = AvxVnni.MultiplyWideningAndAdd(c20, b0, w2);
                c21 = AvxVnni.MultiplyWideningAndAdd(c21, b1, w2);
                c22 = AvxVnni.MultiplyWideningAndAdd(c22, b2, w2);
                c23 = AvxVnni.MultiplyWideningAndAdd(c23, b3, w2);
                var w3 = Vector256.Create(a[3]).AsSByte();
                c30 = AvxVnni.MultiplyWideningAndAdd(c30, b0, w3);
                c31 = AvxVnni.MultiplyWideningAndAdd(c31, b1, w3);
                c32 = AvxVnni.MultiplyWideningAndAdd(c32, b2, w3);
                c33 = AvxVnni.MultiplyWideningAndAdd(c33, b3, w3);
                a += 4;
                bt += unitStride;
            }
        }
        c00.Store(acc + 0);
        c01.Store(acc + 8);
        c02.Store(acc + 16);
        c03.Store(acc + 24);
        c10.Store(acc + 64);
        c11.Store(acc + 72);
        c12.Store(acc + 80);
        c13.Store(acc + 88);
        c20.Store(acc + 128);
        c21.Store(acc + 136);
        c22.Store(acc + 144);
        c23.Store(acc + 152);
        c30.Store(acc + 192);
        c31.Store(acc + 200);
        c32.Store(acc + 208);
        c33.Store(acc + 216);
    }

    /// <summary>
    /// <see cref="Vnni"/> with <c>vpdpbusd</c> emulated (<see cref="DotEmulated"/>): same layout and loop, for tests on
    /// CPUs without AVX-VNNI.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void VnniEmulated(int* a, int* b, int* tapOffsets, int taps, int units, nint unitStride, int* acc)
    {
        Vector256<int> c00 = default; Vector256<int> c01 = default; Vector256<int> c02 = default; Vector256<int> c03 = default; Vector256<int> c10 = default; Vector256<int> c11 = default; Vector256<int> c12 = default; Vector256<int> c13 = default; Vector256<int> c20 = default; Vector256<int> c21 = default; Vector256<int> c22 = default; Vector256<int> c23 = default; Vector256<int> c30 = default; Vector256<int> c31 = default; Vector256<int> c32 = default; Vector256<int> c33 = default;
        for (int t = 0; t < taps; t++)
        {
            int* bt = b + tapOffsets[t];
            for (int k = 0; k < units; k++)
            {
                var b0 = Vector256.Load((byte*)(bt + 0));
                var b1 = Vector256.Load((byte*)(bt + 8));
                var b2 = Vector256.Load((byte*)(bt + 16));
                var b3 = Vector256.Load((byte*)(bt + 24));
                var w0 = Vector256.Create(a[0]).AsSByte();
                c00 = DotEmulated(c00, b0, w0);
                c01 = DotEmulated(c01, b1, w0);
                c02 = DotEmulated(c02, b2, w0);
                c03 = DotEmulated(c03, b3, w0);
                var w1 = Vector256.Create(a[1]).AsSByte();
                c10 = DotEmulated(c10, b0, w1);
                c11 = DotEmulated(c11, b1, w1);
                c12 = DotEmulated(c12, b2, w1);
                c13 = DotEmulated(c13, b3, w1);
                var w2 = Vector256.Create(a[2]).AsSByte();
                c20 = DotEmulated(c20, b0, w2);
                c21 = DotEmulated(c21, b1, w2);
                c22 = DotEmulated(c22, b2, w2);
                c23 = DotEmulated(c23, b3, w2);
                var w3 = Vector256.Create(a[3]).AsSByte();
                c30 = DotEmulated(c30, b0, w3);
                c31 = DotEmulated(c31, b1, w3);
                c32 = DotEmulated(c32, b2, w3);
                c33 = DotEmulated(c33, b3, w3);
                a += 4;
                bt += unitStride;
            }
        }
        c00.Store(acc + 0);
        c01.Store(acc + 8);
        c02.Store(acc + 16);
        c03.Store(acc + 24);
        c10.Store(acc + 64);
        c11.Store(acc + 72);
        c12.Store(acc + 80);
        c13.Store(acc + 88);
        c20.Store(acc + 128);
        c21.Store(acc + 136);
        c22.Store(acc + 144);
        c23.Store(acc + 152);
        c30.Store(acc + 192);
        c31.Store(acc + 200);
        c32.Store(acc + 208);
        c33.Store(acc + 216);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Widen(int* acc, Vector512<short> s, Vector512<short> ones) =>
        (Vector512.Load(acc) + Avx512BW.MultiplyAddAdjacent(s, ones)).Store(acc);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Widen(int* acc, Vector256<short> s, Vector256<short> ones) =>
        (Vector256.Load(acc) + Avx2.MultiplyAddAdjacent(s, ones)).Store(acc);

    /// <summary>
    /// <c>vpdpbusd</c> by other means, bit for bit: acc[j] + Σ_{i&lt;4} u[4j+i]·s[4j+i] wrapping in int32. The u8 and s8
    /// bytes are widened to int16, <c>vpmaddwd</c> sums pairs into 16 int32, and adjacent int32 pairs are added in int64
    /// and truncated to int32 (the hardware's wrap).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> DotEmulated(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> s)
    {
        var pairs = Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(u), Avx512BW.ConvertToVector512Int16(s)).AsInt64();
        var lo = Avx512F.ShiftRightArithmetic(Avx512F.ShiftLeftLogical(pairs, 32), 32);
        var hi = Avx512F.ShiftRightArithmetic(pairs, 32);
        return acc + Avx512F.ConvertToVector256Int32(lo + hi);
    }
}
