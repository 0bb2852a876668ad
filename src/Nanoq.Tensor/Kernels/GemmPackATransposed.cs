using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Nanoq.Kernels;

/// <summary>A stored transposed, [k, m] row-major: op(A)[i, p] = a[p·lda + i]. Packing copies 8 floats a row.</summary>
internal readonly unsafe struct GemmPackATransposed(float* a, int lda) : IGemmPackA
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public float* Pack(float* scratch, int i0, int mc, int p0, int kc)
    {
        for (int ir = 0; ir < mc; ir += 8)
        {
            int mr = Math.Min(8, mc - ir);
            float* dst = scratch + (long)ir * kc;
            float* src = a + (long)p0 * lda + i0 + ir;
            if (mr == 8)
            {
                for (int kk = 0; kk < kc; kk++) Vector256.Store(Vector256.Load(src + (long)kk * lda), dst + kk * 8);
            }
            else
            {
                for (int kk = 0; kk < kc; kk++)
                {
                    float* s = src + (long)kk * lda;
                    float* d = dst + kk * 8;
                    int r = 0;
                    for (; r < mr; r++) d[r] = s[r];
                    for (; r < 8; r++) d[r] = 0f;
                }
            }
        }
        return scratch;
    }
}
