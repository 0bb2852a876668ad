using System.Runtime.CompilerServices;

namespace Nanoq.Kernels;

/// <summary>
/// Left operand of the input gradient of a stride-1 convolution, written as a forward convolution of the output
/// gradient: the kernel with in/out channels swapped and rotated by 180°,
/// <code>A[c, (o·KH + ky)·KW + kx] = w[o, c, KH − 1 − ky, KW − 1 − kx]</code>
/// for one group (<paramref name="w"/> points at the group's first output channel). Weights are small; packed once a call.
/// </summary>
internal readonly unsafe struct Conv2dPackAFlipped(float* w, int groupIn, int kh, int kw) : IGemmPackA
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public float* Pack(float* scratch, int i0, int mc, int p0, int kc)
    {
        int taps = kh * kw;
        for (int ir = 0; ir < mc; ir += 8)
        {
            int mr = Math.Min(8, mc - ir);
            float* dst = scratch + (long)ir * kc;
            for (int kk = 0; kk < kc; kk++)
            {
                int p = p0 + kk;
                int o = p / taps, t = p - o * taps;
                int flipped = taps - 1 - t; // (KH−1−ky)·KW + (KW−1−kx)
                float* src = w + (long)o * groupIn * taps + flipped;
                float* d = dst + kk * 8;
                int r = 0;
                for (; r < mr; r++) d[r] = src[(long)(i0 + ir + r) * taps];
                for (; r < 8; r++) d[r] = 0f;
            }
        }
        return scratch;
    }
}
