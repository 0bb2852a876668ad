using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Nanoq.Kernels;

/// <summary>
/// dst[e] = (accumulate ? dst[e] : 0) + Σ_s partials[s][e], partial sums added in order s = 0, 1, …, over one
/// range of elements per task: the deterministic reduction of a K-split GEMM.
/// </summary>
internal unsafe struct Conv2dReduceTask : IParallelBody
{
    public float* Dst, Partials;
    public long Length, PartialStride;
    public int Parts, Tasks;
    public bool Accumulate;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Invoke(int task)
    {
        long e0 = Length * task / Tasks & ~15L, e1 = task == Tasks - 1 ? Length : Length * (task + 1) / Tasks & ~15L;
        long e = e0;
        for (; e + 16 <= e1; e += 16)
        {
            var sum = Accumulate ? Vector512.Load(Dst + e) : Vector512<float>.Zero;
            for (int s = 0; s < Parts; s++) sum += Vector512.Load(Partials + s * PartialStride + e);
            Vector512.Store(sum, Dst + e);
        }
        for (; e < e1; e++)
        {
            float sum = Accumulate ? Dst[e] : 0f;
            for (int s = 0; s < Parts; s++) sum += Partials[s * PartialStride + e];
            Dst[e] = sum;
        }
    }
}
