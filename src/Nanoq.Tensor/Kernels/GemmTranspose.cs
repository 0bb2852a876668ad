using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nanoq.Kernels;

/// <summary>
/// 8×8 float transposes with AVX (unpack → shuffle → lane permute, 24 shuffles for 64 elements), used by the
/// packers whose source runs along K (row-major A, transposed B, im2col rows): packing such an operand into
/// K-major panels is a transpose, and the vector form is ~3× faster than element-by-element copying.
/// </summary>
internal static unsafe class GemmTranspose
{
    /// <summary>
    /// dst[t·dstStride + r] = src[r·srcStride + t] for r, t in [0, 8): eight rows of eight floats become eight
    /// columns.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Transpose8x8(float* src, long srcStride, float* dst, long dstStride)
    {
        var r0 = Vector256.Load(src);
        var r1 = Vector256.Load(src + srcStride);
        var r2 = Vector256.Load(src + 2 * srcStride);
        var r3 = Vector256.Load(src + 3 * srcStride);
        var r4 = Vector256.Load(src + 4 * srcStride);
        var r5 = Vector256.Load(src + 5 * srcStride);
        var r6 = Vector256.Load(src + 6 * srcStride);
        var r7 = Vector256.Load(src + 7 * srcStride);

        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5);
        var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7);
        var t7 = Avx.UnpackHigh(r6, r7);

        var u0 = Avx.Shuffle(t0, t2, 0x44);
        var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44);
        var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44);
        var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44);
        var u7 = Avx.Shuffle(t5, t7, 0xEE);

        Vector256.Store(Avx.Permute2x128(u0, u4, 0x20), dst);
        Vector256.Store(Avx.Permute2x128(u1, u5, 0x20), dst + dstStride);
        Vector256.Store(Avx.Permute2x128(u2, u6, 0x20), dst + 2 * dstStride);
        Vector256.Store(Avx.Permute2x128(u3, u7, 0x20), dst + 3 * dstStride);
        Vector256.Store(Avx.Permute2x128(u0, u4, 0x31), dst + 4 * dstStride);
        Vector256.Store(Avx.Permute2x128(u1, u5, 0x31), dst + 5 * dstStride);
        Vector256.Store(Avx.Permute2x128(u2, u6, 0x31), dst + 6 * dstStride);
        Vector256.Store(Avx.Permute2x128(u3, u7, 0x31), dst + 7 * dstStride);
    }

    /// <summary>
    /// dst[t·dstStride + r] = src[rowOffsets[r] + t] for r, t in [0, 8): rows anywhere in memory.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Transpose8x8Rows(float* src, int* rowOffsets, float* dst, long dstStride)
    {
        var r0 = Vector256.Load(src + rowOffsets[0]);
        var r1 = Vector256.Load(src + rowOffsets[1]);
        var r2 = Vector256.Load(src + rowOffsets[2]);
        var r3 = Vector256.Load(src + rowOffsets[3]);
        var r4 = Vector256.Load(src + rowOffsets[4]);
        var r5 = Vector256.Load(src + rowOffsets[5]);
        var r6 = Vector256.Load(src + rowOffsets[6]);
        var r7 = Vector256.Load(src + rowOffsets[7]);

        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5);
        var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7);
        var t7 = Avx.UnpackHigh(r6, r7);

        var u0 = Avx.Shuffle(t0, t2, 0x44);
        var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44);
        var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44);
        var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44);
        var u7 = Avx.Shuffle(t5, t7, 0xEE);

        Vector256.Store(Avx.Permute2x128(u0, u4, 0x20), dst);
        Vector256.Store(Avx.Permute2x128(u1, u5, 0x20), dst + dstStride);
        Vector256.Store(Avx.Permute2x128(u2, u6, 0x20), dst + 2 * dstStride);
        Vector256.Store(Avx.Permute2x128(u3, u7, 0x20), dst + 3 * dstStride);
        Vector256.Store(Avx.Permute2x128(u0, u4, 0x31), dst + 4 * dstStride);
        Vector256.Store(Avx.Permute2x128(u1, u5, 0x31), dst + 5 * dstStride);
        Vector256.Store(Avx.Permute2x128(u2, u6, 0x31), dst + 6 * dstStride);
        Vector256.Store(Avx.Permute2x128(u3, u7, 0x31), dst + 7 * dstStride);
    }
}
