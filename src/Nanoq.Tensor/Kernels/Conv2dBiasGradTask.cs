using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Nanoq.Kernels;

/// <summary>
/// db[o] (+)= Σ_n Σ_q dy[n, o, q] for a range of channels per task; each plane is summed with the same fixed
/// pattern (16-lane partial sums, then lanes in order), so the result is reproducible.
/// </summary>
internal unsafe struct Conv2dBiasGradTask : IParallelBody
{
    public float* Dy, Db;
    public int Batch, Channels, Plane, Tasks;
    public bool Accumulate;

    public void Invoke(int task)
    {
        int c0 = (int)((long)Channels * task / Tasks), c1 = (int)((long)Channels * (task + 1) / Tasks);
        for (int o = c0; o < c1; o++)
        {
            float sum = Accumulate ? Db[o] : 0f;
            for (int n = 0; n < Batch; n++) sum += SumPlane(Dy + ((long)n * Channels + o) * Plane, Plane);
            Db[o] = sum;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static float SumPlane(float* p, int len)
    {
        var acc = Vector512<float>.Zero;
        int i = 0;
        for (; i + 16 <= len; i += 16) acc += Vector512.Load(p + i);
        float s = 0f;
        for (int l = 0; l < 16; l++) s += acc.GetElement(l);
        for (; i < len; i++) s += p[i];
        return s;
    }
}
