using System.Runtime.CompilerServices;

namespace Nanoq.Kernels;

/// <summary>
/// Weight-gradient right operand: op(B)[p, j] = col[j, pixelStart + p], i.e. colᵀ, [pixels, PatchSize], read straight
/// from the image. A panel's (up to) 32 col rows are built in the row scratch, then transposed 8×8 at a time.
/// </summary>
internal readonly unsafe struct Conv2dPackBIm2ColTransposed(Im2ColSource source, int pixelStart) : IGemmPackB
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Pack(float* dst, float* row, int j0, int nc, int p0, int kc)
    {
        int ld = (kc + 7) & ~7;
        for (int jr = 0; jr < nc; jr += GemmMicroKernel.NR)
        {
            int w = GemmPanel.Width(nc - jr);
            int nr = Math.Min(w, nc - jr);
            for (int c = 0; c < nr; c++) source.Row(j0 + jr + c, pixelStart + p0, kc, row + c * ld);
            GemmPackBTransposed.PackPanel(row, ld, dst + (long)jr * kc, w, nr, kc);
        }
    }
}
