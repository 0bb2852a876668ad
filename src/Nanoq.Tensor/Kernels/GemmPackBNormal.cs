using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Nanoq.Kernels;

/// <summary>B stored row-major: op(B)[p, j] = b[p·ldb + j]. Packing copies 32 (or 16) floats a row.</summary>
internal readonly unsafe struct GemmPackBNormal(float* b, int ldb) : IGemmPackB
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Pack(float* dst, int j0, int nc, int p0, int kc)
    {
        for (int jr = 0; jr < nc; jr += GemmMicroKernel.NR)
        {
            int w = GemmPanel.Width(nc - jr);
            int nr = Math.Min(w, nc - jr);
            float* d = dst + (long)jr * kc;
            float* s = b + (long)p0 * ldb + j0 + jr;
            if (nr == 32)
            {
                for (int kk = 0; kk < kc; kk++, s += ldb, d += 32)
                {
                    Vector512.Store(Vector512.Load(s), d);
                    Vector512.Store(Vector512.Load(s + 16), d + 16);
                }
            }
            else if (nr == 16)
            {
                for (int kk = 0; kk < kc; kk++, s += ldb, d += 16) Vector512.Store(Vector512.Load(s), d);
            }
            else
            {
                for (int kk = 0; kk < kc; kk++, s += ldb, d += w)
                {
                    int c = 0;
                    for (; c < nr; c++) d[c] = s[c];
                    for (; c < w; c++) d[c] = 0f;
                }
            }
        }
    }
}
