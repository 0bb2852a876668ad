using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Nanoq.Kernels;

/// <summary>
/// A batch of planes y[N, M, P] (an output gradient) as the GEMM's left operand, its images side by side along K:
/// <code>op(A)[o, j] = y[n, o, p],   j = n·P + p</code>
/// Eight rows of a panel are eight channels; eight consecutive pixels of one image are an 8×8 transpose.
/// </summary>
internal readonly unsafe struct Conv2dPackAPlanes(float* y, int channels, int plane) : IGemmPackA
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public float* Pack(float* scratch, int i0, int mc, int p0, int kc)
    {
        for (int ir = 0; ir < mc; ir += 8)
        {
            int mr = Math.Min(8, mc - ir);
            float* dst = scratch + (long)ir * kc;
            for (int kk = 0; kk < kc;)
            {
                int j = p0 + kk, n = j / plane, p = j - n * plane;
                float* src = y + ((long)n * channels + i0 + ir) * plane + p;
                int run = Math.Min(kc - kk, plane - p); // pixels left in this image
                int t = 0;
                if (mr == 8 && Avx.IsSupported)
                    for (; t + 8 <= run; t += 8) GemmTranspose.Transpose8x8(src + t, plane, dst + (long)(kk + t) * 8, 8);
                for (; t < run; t++)
                {
                    float* d = dst + (long)(kk + t) * 8;
                    int r = 0;
                    for (; r < mr; r++) d[r] = src[(long)r * plane + t];
                    for (; r < 8; r++) d[r] = 0f;
                }
                kk += run;
            }
        }
        return scratch;
    }
}
