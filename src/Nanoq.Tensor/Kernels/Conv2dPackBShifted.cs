using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Nanoq.Kernels;

/// <summary>
/// Forward-conv right operand on the phase grid (<see cref="Conv2dPhase"/>): op(B)[kk, q] = buffer[offsets[kk] + q],
/// so a panel row is one unaligned 32-float copy.
/// </summary>
internal readonly unsafe struct Conv2dPackBShifted(float* buffer, int* offsets) : IGemmPackB
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Pack(float* dst, float* row, int j0, int nc, int p0, int kc)
    {
        for (int jr = 0; jr < nc; jr += GemmMicroKernel.NR)
        {
            int w = GemmPanel.Width(nc - jr);
            int nr = Math.Min(w, nc - jr);
            float* d = dst + (long)jr * kc;
            float* src = buffer + j0 + jr;
            int* off = offsets + p0;
            if (nr == 32)
            {
                for (int kk = 0; kk < kc; kk++, d += 32)
                {
                    float* s = src + off[kk];
                    Vector512.Store(Vector512.Load(s), d);
                    Vector512.Store(Vector512.Load(s + 16), d + 16);
                }
            }
            else
            {
                for (int kk = 0; kk < kc; kk++, d += w)
                {
                    float* s = src + off[kk];
                    int c = 0;
                    for (; c < nr; c++) d[c] = s[c];
                    for (; c < w; c++) d[c] = 0f;
                }
            }
        }
    }
}
