using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Nanoq.Kernels;

/// <summary>B stored transposed, [n, k] row-major: op(B)[p, j] = b[j·ldb + p]. Packing transposes 8×8 blocks.</summary>
internal readonly unsafe struct GemmPackBTransposed(float* b, int ldb) : IGemmPackB
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Pack(float* dst, int j0, int nc, int p0, int kc)
    {
        for (int jr = 0; jr < nc; jr += GemmMicroKernel.NR)
        {
            int w = GemmPanel.Width(nc - jr);
            int nr = Math.Min(w, nc - jr);
            GemmPackBTransposed.PackPanel(b + (long)(j0 + jr) * ldb + p0, ldb, dst + (long)jr * kc, w, nr, kc);
        }
    }

    /// <summary>
    /// d[kk·w + c] = src[c·ld + kk] for c &lt; nr, 0 for nr ≤ c &lt; w: one panel from K-contiguous rows.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackPanel(float* src, long ld, float* d, int w, int nr, int kc)
    {
        int c0 = 0;
        if (Avx.IsSupported)
        {
            for (; c0 + 8 <= nr; c0 += 8)
            {
                int kk = 0;
                for (; kk + 8 <= kc; kk += 8) GemmTranspose.Transpose8x8(src + c0 * ld + kk, ld, d + kk * w + c0, w);
                for (; kk < kc; kk++)
                    for (int c = c0; c < c0 + 8; c++) d[kk * w + c] = src[c * ld + kk];
            }
        }
        for (int kk = 0; kk < kc; kk++)
        {
            float* dk = d + kk * w;
            int c = c0;
            for (; c < nr; c++) dk[c] = src[c * ld + kk];
            for (; c < w; c++) dk[c] = 0f;
        }
    }
}
