using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nanoq.Kernels.Integer;

/// <summary>
/// Int32 lanes already clamped to [0, 255] down to bytes without AVX-512's <c>vpmovdb</c>: AVX2's saturating packs work
/// within 128-bit halves, so 16 lanes go int32 → int16 (<c>vpackssdw</c>), a 64-bit-lane permute restores the order, and
/// int16 → u8 (<c>vpackuswb</c>). The packs saturate, which is exact here because every lane is already a code.
/// </summary>
internal static class Narrow
{
    /// <summary>Bytes of lanes 0–7 of <paramref name="lo"/> then lanes 0–7 of <paramref name="hi"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> ToBytes(Vector256<int> lo, Vector256<int> hi)
    {
        // vpackssdw interleaves by 128-bit half: [lo 0–3, hi 0–3, lo 4–7, hi 4–7]; the permute puts lo before hi.
        var words = Avx2.Permute4x64(Avx2.PackSignedSaturate(lo, hi).AsInt64(), 0b11_01_10_00).AsInt16();
        return Sse2.PackUnsignedSaturate(words.GetLower(), words.GetUpper());
    }
}
