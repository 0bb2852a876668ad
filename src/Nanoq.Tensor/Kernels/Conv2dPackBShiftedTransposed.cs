using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Nanoq.Kernels;

/// <summary>
/// Weight-gradient right operand on the phase grid: op(B)[p, j] = buffer[offsets[j] + pixelStart + p] (colᵀ). The
/// rows of a panel are shifted slices of the buffer, transposed 8×8 at a time.
/// </summary>
internal readonly unsafe struct Conv2dPackBShiftedTransposed(float* buffer, int* offsets, int pixelStart) : IGemmPackB
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Pack(float* dst, int j0, int nc, int p0, int kc)
    {
        float* start = buffer + pixelStart + p0;
        for (int jr = 0; jr < nc; jr += GemmMicroKernel.NR)
        {
            int w = GemmPanel.Width(nc - jr);
            int nr = Math.Min(w, nc - jr);
            float* d = dst + (long)jr * kc;
            int* off = offsets + j0 + jr;
            int c0 = 0;
            if (Avx.IsSupported)
            {
                for (; c0 + 8 <= nr; c0 += 8)
                {
                    int kk = 0;
                    for (; kk + 8 <= kc; kk += 8) GemmTranspose.Transpose8x8Rows(start + kk, off + c0, d + kk * w + c0, w);
                    for (; kk < kc; kk++)
                        for (int c = c0; c < c0 + 8; c++) d[kk * w + c] = start[off[c] + kk];
                }
            }
            for (int kk = 0; kk < kc; kk++)
            {
                float* dk = d + kk * w;
                int c = c0;
                for (; c < nr; c++) dk[c] = start[off[c] + kk];
                for (; c < w; c++) dk[c] = 0f;
            }
        }
    }
}
