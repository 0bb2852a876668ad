using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Nanoq.Kernels.Integer;

/// <summary>
/// 16 × 16 byte blocks transposed in registers: four rounds of interleaving (bytes, pairs, quads, halves of rows), the
/// classic SSE2 transpose — 64 unpacks and 16 stores where writing a block column by column takes 256 byte stores.
/// x86 only (callers check <c>Sse2.IsSupported</c>).
/// </summary>
public static unsafe class ByteTranspose
{
    /// <summary>dst[j · dstStride + i] = src[i · srcStride + j] for i, j &lt; 16.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Transpose16x16(byte* src, int srcStride, byte* dst, int dstStride)
    {
        var a = stackalloc Vector128<byte>[16];
        var b = stackalloc Vector128<byte>[16];
        for (int i = 0; i < 16; i++) a[i] = Vector128.Load(src + (long)i * srcStride);
        // Round 1, bytes: b[2p] and b[2p + 1] interleave rows 2p and 2p + 1 (columns 0–7, then 8–15).
        for (int p = 0; p < 8; p++)
        {
            b[2 * p] = Interleave.Low8(a[2 * p], a[2 * p + 1]);
            b[2 * p + 1] = Interleave.High8(a[2 * p], a[2 * p + 1]);
        }
        // Round 2, byte pairs: rows 4q … 4q + 3, four columns per vector (columns 0–3, 4–7, 8–11, 12–15).
        for (int q = 0; q < 4; q++)
        {
            a[4 * q] = Interleave.Low16(b[4 * q], b[4 * q + 2]);
            a[4 * q + 1] = Interleave.High16(b[4 * q], b[4 * q + 2]);
            a[4 * q + 2] = Interleave.Low16(b[4 * q + 1], b[4 * q + 3]);
            a[4 * q + 3] = Interleave.High16(b[4 * q + 1], b[4 * q + 3]);
        }
        // Round 3, quads: rows 8h … 8h + 7, two columns per vector; b[8h + m] holds columns 2m and 2m + 1.
        for (int h = 0; h < 2; h++)
            for (int m = 0; m < 4; m++)
            {
                b[8 * h + 2 * m] = Interleave.Low32(a[8 * h + m], a[8 * h + 4 + m]);
                b[8 * h + 2 * m + 1] = Interleave.High32(a[8 * h + m], a[8 * h + 4 + m]);
            }
        // Round 4, halves: column j = rows 0–7 from b[j / 2] and rows 8–15 from b[8 + j / 2].
        for (int m = 0; m < 8; m++)
        {
            Interleave.Low64(b[m], b[8 + m]).Store(dst + (long)(2 * m) * dstStride);
            Interleave.High64(b[m], b[8 + m]).Store(dst + (long)(2 * m + 1) * dstStride);
        }
    }

    /// <summary>SSE2's punpck{l,h}{bw,wd,dq,qdq} on bytes.</summary>
    private static class Interleave
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<byte> Low8(Vector128<byte> x, Vector128<byte> y) => System.Runtime.Intrinsics.X86.Sse2.UnpackLow(x, y);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<byte> High8(Vector128<byte> x, Vector128<byte> y) => System.Runtime.Intrinsics.X86.Sse2.UnpackHigh(x, y);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<byte> Low16(Vector128<byte> x, Vector128<byte> y) => System.Runtime.Intrinsics.X86.Sse2.UnpackLow(x.AsUInt16(), y.AsUInt16()).AsByte();
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<byte> High16(Vector128<byte> x, Vector128<byte> y) => System.Runtime.Intrinsics.X86.Sse2.UnpackHigh(x.AsUInt16(), y.AsUInt16()).AsByte();
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<byte> Low32(Vector128<byte> x, Vector128<byte> y) => System.Runtime.Intrinsics.X86.Sse2.UnpackLow(x.AsUInt32(), y.AsUInt32()).AsByte();
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<byte> High32(Vector128<byte> x, Vector128<byte> y) => System.Runtime.Intrinsics.X86.Sse2.UnpackHigh(x.AsUInt32(), y.AsUInt32()).AsByte();
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<byte> Low64(Vector128<byte> x, Vector128<byte> y) => System.Runtime.Intrinsics.X86.Sse2.UnpackLow(x.AsUInt64(), y.AsUInt64()).AsByte();
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<byte> High64(Vector128<byte> x, Vector128<byte> y) => System.Runtime.Intrinsics.X86.Sse2.UnpackHigh(x.AsUInt64(), y.AsUInt64()).AsByte();
    }
}
