using Nanoq.Kernels.Integer;
using Nanoq.Tests.Kernels;

namespace Nanoq.Tests.Integer;

/// <summary><see cref="ByteTranspose"/> against the index rule, with strides wider than a block on both sides, at each
/// vector level the CPU has (the VBMI form with AVX-512, the SSE2 one with AVX2).</summary>
[Collection(SimdCollection.Name)]
public class ByteTransposeTests
{
    [Theory]
    [InlineData(16, 16)]
    [InlineData(49, 16)]
    [InlineData(16, 49)]
    [InlineData(23, 37)]
    public void Transpose16x16_moves_every_byte_to_its_mirror(int srcStride, int dstStride)
    {
        foreach (var level in SimdLevels.VectorLevels) SimdLevels.With(level, () => Check(srcStride, dstStride));
    }

    private static unsafe void Check(int srcStride, int dstStride)
    {
        var rng = new Rng((ulong)(srcStride * 100 + dstStride));
        var src = new byte[16 * srcStride];
        for (int i = 0; i < src.Length; i++) src[i] = (byte)rng.NextInt(256);
        var dst = new byte[16 * dstStride];
        var untouched = (byte)rng.NextInt(256);
        Array.Fill(dst, untouched);
        fixed (byte* s = src, d = dst) ByteTranspose.Transpose16x16(s, srcStride, d, dstStride);
        for (int j = 0; j < 16; j++)
            for (int x = 0; x < dstStride; x++)
                Assert.Equal(x < 16 ? src[x * srcStride + j] : untouched, dst[j * dstStride + x]);
    }
}
