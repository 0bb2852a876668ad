using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nanoq.Kernels;

/// <summary>
/// The end of <see cref="Conv2dWinograd.BackwardWeight"/>: P = Σ_chunks P_chunk (in chunk order), then
/// dw[o, c] (+)= Gᵀ P[o, c] G, 8 input channels a vector. Task t takes a range of output channels.
/// </summary>
internal unsafe struct Conv2dWinogradGradOutputTask : IParallelBody
{
    public float* Partials, Dw;
    public int Rows, K, Chunks, Tasks;
    public long PointStride;
    public bool Accumulate;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Invoke(int task)
    {
        int o0 = (int)((long)Rows * task / Tasks), o1 = (int)((long)Rows * (task + 1) / Tasks);
        float* s = stackalloc float[Conv2dWinograd.Points * 8];
        float* taps = stackalloc float[9 * 8];
        float* t = stackalloc float[6 * 3 * 8];
        long partialStride = Conv2dWinograd.Points * PointStride;
        for (int o = o0; o < o1; o++)
            for (int c = 0; c < K; c += 8)
            {
                int count = Math.Min(8, K - c);
                var mask = Vector256.LessThan(Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7), Vector256.Create(count)).AsSingle();
                for (int xi = 0; xi < Conv2dWinograd.Points; xi++)
                {
                    float* p = Partials + xi * PointStride + (long)o * K + c;
                    var sum = Avx.MaskLoad(p, mask);
                    for (int j = 1; j < Chunks; j++) sum += Avx.MaskLoad(p + j * partialStride, mask);
                    Avx.Store(s + xi * 8, sum);
                }
                // Rows: t[i][b] = (P[i][·] G)_b; then columns: dw[a][b] = (Gᵀ t[·][b])_a.
                for (int i = 0; i < 6; i++)
                {
                    float* r = s + i * 6 * 8;
                    Conv2dWinograd.WeightGradientTransform(Avx.LoadVector256(r), Avx.LoadVector256(r + 8),
                        Avx.LoadVector256(r + 16), Avx.LoadVector256(r + 24), Avx.LoadVector256(r + 32),
                        Avx.LoadVector256(r + 40), out var t0, out var t1, out var t2);
                    Avx.Store(t + (i * 3 + 0) * 8, t0);
                    Avx.Store(t + (i * 3 + 1) * 8, t1);
                    Avx.Store(t + (i * 3 + 2) * 8, t2);
                }
                for (int b = 0; b < 3; b++)
                {
                    Conv2dWinograd.WeightGradientTransform(Avx.LoadVector256(t + b * 8), Avx.LoadVector256(t + (3 + b) * 8),
                        Avx.LoadVector256(t + (6 + b) * 8), Avx.LoadVector256(t + (9 + b) * 8),
                        Avx.LoadVector256(t + (12 + b) * 8), Avx.LoadVector256(t + (15 + b) * 8),
                        out var d0, out var d1, out var d2);
                    Avx.Store(taps + (0 * 3 + b) * 8, d0);
                    Avx.Store(taps + (1 * 3 + b) * 8, d1);
                    Avx.Store(taps + (2 * 3 + b) * 8, d2);
                }
                // dw[o, c + l, tap] for the valid lanes l: 9 · count contiguous floats.
                float* dst = Dw + ((long)o * K + c) * 9;
                for (int l = 0; l < count; l++)
                    for (int tap = 0; tap < 9; tap++)
                    {
                        float value = taps[tap * 8 + l];
                        if (Accumulate) dst[l * 9 + tap] += value;
                        else dst[l * 9 + tap] = value;
                    }
            }
    }
}
