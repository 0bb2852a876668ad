using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nanoq.Kernels.Integer;

/// <summary>
/// 16 × 16 blocks of int32 transposed in AVX-512 registers: four rounds (32-bit and 64-bit interleaves within 128-bit
/// lanes, then two rounds of 128-bit lane shuffles) — 64 shuffles and 16 stores where writing the block column by
/// column takes 256 scalar loads and stores. Callers check <see cref="Simd.Is512"/>.
/// </summary>
internal static unsafe class IntTranspose
{
    /// <summary>
    /// dst[j · dstStride + i] = row i's int j, for i, j &lt; 16, where row i is the 16 ints (unaligned) at
    /// src + i · srcStrideBytes and dstStride counts ints.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Transpose16x16(byte* src, long srcStrideBytes, int* dst, long dstStride)
    {
        var a = stackalloc Vector512<int>[16];
        var b = stackalloc Vector512<int>[16];
        // Round 1, ints: a[2p] and a[2p + 1] interleave rows 2p and 2p + 1 (lane L: columns 4L, 4L + 1; then 4L + 2, 4L + 3).
        for (int p = 0; p < 8; p++)
        {
            var r0 = Vector512.Load((int*)(src + 2 * p * srcStrideBytes));
            var r1 = Vector512.Load((int*)(src + (2 * p + 1) * srcStrideBytes));
            a[2 * p] = Avx512F.UnpackLow(r0, r1);
            a[2 * p + 1] = Avx512F.UnpackHigh(r0, r1);
        }
        // Round 2, pairs: b[4g + j] holds, in lane L, column 4L + j of rows 4g … 4g + 3.
        for (int g = 0; g < 4; g++)
        {
            b[4 * g] = Avx512F.UnpackLow(a[4 * g].AsInt64(), a[4 * g + 2].AsInt64()).AsInt32();
            b[4 * g + 1] = Avx512F.UnpackHigh(a[4 * g].AsInt64(), a[4 * g + 2].AsInt64()).AsInt32();
            b[4 * g + 2] = Avx512F.UnpackLow(a[4 * g + 1].AsInt64(), a[4 * g + 3].AsInt64()).AsInt32();
            b[4 * g + 3] = Avx512F.UnpackHigh(a[4 * g + 1].AsInt64(), a[4 * g + 3].AsInt64()).AsInt32();
        }
        // Rounds 3 and 4, 128-bit lanes: column 4L + j is lane L of b[j], b[4 + j], b[8 + j], b[12 + j] (rows 0–3, …, 12–15).
        for (int j = 0; j < 4; j++)
        {
            var s0 = Avx512F.Shuffle4x128(b[j], b[4 + j], 0b10_00_10_00);      // b[j].L0, b[j].L2, b[4+j].L0, b[4+j].L2
            var s1 = Avx512F.Shuffle4x128(b[j], b[4 + j], 0b11_01_11_01);      // … lanes 1 and 3
            var s2 = Avx512F.Shuffle4x128(b[8 + j], b[12 + j], 0b10_00_10_00);
            var s3 = Avx512F.Shuffle4x128(b[8 + j], b[12 + j], 0b11_01_11_01);
            Avx512F.Shuffle4x128(s0, s2, 0b10_00_10_00).Store(dst + (0 + j) * dstStride);    // column j:      lanes L0
            Avx512F.Shuffle4x128(s1, s3, 0b10_00_10_00).Store(dst + (4 + j) * dstStride);    // column 4 + j:  lanes L1
            Avx512F.Shuffle4x128(s0, s2, 0b11_01_11_01).Store(dst + (8 + j) * dstStride);    // column 8 + j:  lanes L2
            Avx512F.Shuffle4x128(s1, s3, 0b11_01_11_01).Store(dst + (12 + j) * dstStride);   // column 12 + j: lanes L3
        }
    }
}
