using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Nanoq.Kernels;

/// <summary>A stored row-major: op(A)[i, p] = a[i·lda + p]. Packing transposes 8×8 blocks.</summary>
internal readonly unsafe struct GemmPackANormal(float* a, int lda) : IGemmPackA
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public float* Pack(float* scratch, int i0, int mc, int p0, int kc)
    {
        for (int ir = 0; ir < mc; ir += 8)
        {
            int mr = Math.Min(8, mc - ir);
            float* dst = scratch + (long)ir * kc;
            float* src = a + (long)(i0 + ir) * lda + p0;
            int kk = 0;
            if (mr == 8 && Avx.IsSupported)
            {
                for (; kk + 8 <= kc; kk += 8) GemmTranspose.Transpose8x8(src + kk, lda, dst + kk * 8, 8);
            }
            for (; kk < kc; kk++)
            {
                float* d = dst + kk * 8;
                int r = 0;
                for (; r < mr; r++) d[r] = src[(long)r * lda + kk];
                for (; r < 8; r++) d[r] = 0f;
            }
        }
        return scratch;
    }
}
