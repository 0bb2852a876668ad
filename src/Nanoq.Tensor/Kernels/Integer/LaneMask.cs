using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nanoq.Kernels.Integer;

/// <summary>
/// 512-bit lane masks (all ones where a lane is selected) for AVX-512's masked loads, stores and compresses: the first
/// lanes of a vector, or the lanes of a bit set. The index vectors are literals, not static readonly fields (in
/// <c>AggressiveOptimization</c> kernels a static field is a load behind a class-initialization check).
/// </summary>
internal static class LaneMask
{
    /// <summary>Bytes 0 … <paramref name="count"/> − 1 selected (0 ≤ count ≤ 64).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> Bytes(int count) =>
        Vector512.LessThan(Vector512.Create((byte)0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
            25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57,
            58, 59, 60, 61, 62, 63), Vector512.Create((byte)count));

    /// <summary>Int lanes 0 … <paramref name="count"/> − 1 selected (0 ≤ count ≤ 16).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> Ints(int count) =>
        Vector512.LessThan(Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), Vector512.Create(count));

    /// <summary>Byte i selected where bit i of <paramref name="bits"/> is set: the mask broadcast, each byte lane picks the
    /// mask byte holding its bit (<c>vpshufb</c> within 128-bit lanes, each of which holds all eight), then tests the bit.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> FromBits(ulong bits)
    {
        var picked = Avx512BW.Shuffle(Vector512.Create(bits).AsByte(), Vector512.Create(
            (byte)0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3,
            4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 6, 7, 7, 7, 7, 7, 7, 7, 7));
        var bit = Vector512.Create((byte)1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8,
            16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128);
        return Vector512.Equals(picked & bit, bit);
    }
}
