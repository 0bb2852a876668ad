using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Nanoq.Kernels;

/// <summary>
/// The transposed im2col matrix of a batch as the GEMM's right operand (the weight gradient's colᵀ):
/// <code>op(B)[j, kk] = col[kk, j]   (see <see cref="Conv2dPackBIm2col"/>: kk a patch row, j = n·P + oy·OW + ox)</code>
/// A panel's 32 patch rows are gathered along j, 16 pixels at a time, into a row-major scratch block by the
/// im2col packer's own run loads, then transposed 8×8 into the panel.
/// </summary>
internal readonly unsafe struct Conv2dPackBIm2colTransposed(Conv2dPackBIm2col im2col) : IGemmPackB
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Pack(float* dst, int j0, int nc, int p0, int kc)
    {
        int ld = (kc + 15) & ~15;
        float* rows = GemmScratch.Current.Get(GemmScratch.Columns, (long)GemmMicroKernel.NR * ld);
        var runs = new Conv2dPackBIm2col.Runs();
        for (int jr = 0; jr < nc; jr += GemmMicroKernel.NR)
        {
            int w = GemmPanel.Width(nc - jr);
            int nr = Math.Min(w, nc - jr);
            // rows[c, p] = col[j0 + jr + c, p0 + p] for c < nr.
            for (int p = 0; p < kc; p += 16)
            {
                im2col.FindRuns(p0 + p, Math.Min(16, kc - p), ref runs);
                im2col.PackRows(rows + p, ld, j0 + jr, nr, ref runs);
            }
            float* d = dst + (long)jr * kc;
            int c0 = 0;
            if (Avx.IsSupported)
            {
                for (; c0 + 8 <= nr; c0 += 8)
                {
                    int p = 0;
                    for (; p + 8 <= kc; p += 8) GemmTranspose.Transpose8x8(rows + (long)c0 * ld + p, ld, d + (long)p * w + c0, w);
                    for (; p < kc; p++)
                        for (int c = c0; c < c0 + 8; c++) d[(long)p * w + c] = rows[(long)c * ld + p];
                }
            }
            for (int p = 0; p < kc; p++)
            {
                float* dp = d + (long)p * w;
                int c = c0;
                for (; c < nr; c++) dp[c] = rows[(long)c * ld + p];
                for (; c < w; c++) dp[c] = 0f;
            }
        }
    }
}
