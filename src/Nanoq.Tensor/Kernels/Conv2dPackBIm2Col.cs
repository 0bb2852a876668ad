using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Nanoq.Kernels;

/// <summary>
/// Forward-conv right operand: op(B) = col, [PatchSize, OH·OW], read straight from the image (implicit GEMM).
/// Each K row is built contiguously in the row scratch (stride-1 rows are plain copies with zeroed edges) and
/// then dealt into the 32-wide panels; the col matrix never exists in memory.
/// </summary>
internal readonly unsafe struct Conv2dPackBIm2Col(Im2ColSource source) : IGemmPackB
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Pack(float* dst, float* row, int j0, int nc, int p0, int kc)
    {
        for (int kk = 0; kk < kc; kk++)
        {
            source.Row(p0 + kk, j0, nc, row);
            for (int jr = 0; jr < nc; jr += GemmMicroKernel.NR)
            {
                int w = GemmPanel.Width(nc - jr);
                int nr = Math.Min(w, nc - jr);
                float* d = dst + (long)jr * kc + kk * w;
                float* s = row + jr;
                if (nr == 32)
                {
                    Vector512.Store(Vector512.Load(s), d);
                    Vector512.Store(Vector512.Load(s + 16), d + 16);
                }
                else
                {
                    int c = 0;
                    for (; c < nr; c++) d[c] = s[c];
                    for (; c < w; c++) d[c] = 0f;
                }
            }
        }
    }
}
