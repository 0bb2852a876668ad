using Nanoq.Kernels.Integer;
using Nanoq.Tests.Kernels;

namespace Nanoq.Tests.Integer;

/// <summary><see cref="IntTranspose"/> against the index rule: unaligned rows at byte strides that are not multiples of 4,
/// destination strides wider than a block, and nothing outside the block written.</summary>
public class IntTransposeTests
{
    [TheoryRequires(Isa.Avx512BW)]
    [InlineData(64, 16)]
    [InlineData(3137, 64)]
    [InlineData(65, 23)]
    public unsafe void Transpose16x16_moves_every_int_to_its_mirror(int srcStrideBytes, int dstStride)
    {
        var rng = new Rng((ulong)(srcStrideBytes * 100 + dstStride));
        var src = new byte[16 * srcStrideBytes + 64];
        for (int i = 0; i < src.Length; i++) src[i] = (byte)rng.NextInt(256);
        var dst = new int[16 * dstStride];
        Array.Fill(dst, 0x5A5A5A5A);
        int offset = 1;   // rows start off any 4-byte boundary
        fixed (byte* s = src)
        fixed (int* d = dst)
            IntTranspose.Transpose16x16(s + offset, srcStrideBytes, d, dstStride);
        for (int j = 0; j < 16; j++)
            for (int x = 0; x < dstStride; x++)
                Assert.Equal(x < 16 ? BitConverter.ToInt32(src, offset + x * srcStrideBytes + 4 * j) : 0x5A5A5A5A, dst[j * dstStride + x]);
    }
}
