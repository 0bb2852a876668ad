using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

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
        long perOut = (long)groupIn * taps;
        // Output channel by output channel, so w is read in order. For one output channel o and a panel's 8 input
        // channels the source is 8 rows of `taps` floats (w[o, c, :]); the panel wants them as `taps` rows of 8,
        // tap j at position taps − 1 − j: 8×8 transposes written upwards, the last taps % 8 element by element.
        for (int o = p0 / taps; o * taps < p0 + kc; o++)
        {
            int q0 = Math.Max(0, p0 - o * taps), q1 = Math.Min(taps, p0 + kc - o * taps);
            for (int ir = 0; ir < mc; ir += 8)
            {
                int mr = Math.Min(8, mc - ir);
                float* bank = w + o * perOut + (long)(i0 + ir) * taps;
                float* d = scratch + (long)ir * kc + (long)(o * taps - p0) * 8;
                int j = 0;
                if (mr == 8 && q0 == 0 && q1 == taps && Avx.IsSupported)
                    for (; j + 8 <= taps; j += 8) GemmTranspose.Transpose8x8(bank + j, taps, d + (long)(taps - 1 - j) * 8, -8);
                for (; j < taps; j++)
                {
                    int q = taps - 1 - j; // (KH−1−ky)·KW + (KW−1−kx) for tap j = ky·KW + kx
                    if (q < q0 || q >= q1) continue;
                    int r = 0;
                    for (; r < mr; r++) d[q * 8 + r] = bank[(long)r * taps + j];
                    for (; r < 8; r++) d[q * 8 + r] = 0f;
                }
            }
        }
        return scratch;
    }
}
