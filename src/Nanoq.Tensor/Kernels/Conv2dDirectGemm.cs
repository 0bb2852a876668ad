using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nanoq.Kernels;

/// <summary>
/// The forward-conv GEMM on the phase grid (<see cref="Conv2dPhase"/>) with nothing packed on the fly and no
/// intermediate output buffer:
/// <code>y[o, oy0 + q / Wq, q mod Wq] (+)= Σ_kk A[o, kk] · buffer[offsets[kk] + q] (+ bias[o])   for q mod Wq &lt; OW</code>
/// A (the weights, m × k) is prepacked in K blocks of <see cref="KcStep"/>; B's rows are read in place at
/// <c>buffer + offsets[kk]</c> by <see cref="GemmMicroKernel.Kernel8x32Rows"/>. The grid is walked in 32-column
/// strips: for each K block (its B rows, ≤ 192 × 128 bytes, stay in L1) every 8-row tile of the strip accumulates
/// into a small strip buffer, and once K is done the strip's valid columns — at most a few runs of one output row
/// each — go to y; junk columns are dropped. The order of every sum is fixed by the sizes alone.
/// </summary>
internal static unsafe class Conv2dDirectGemm
{
    /// <summary>Largest K block: a strip's B rows for one block must fit L1 (measured best at 144–192).</summary>
    public const int KcMax = 192;

    public static int KcStep(int k) => GemmDriver.KcStep(k, KcMax);

    /// <summary>Packs the weights (m × k, through <paramref name="pa"/>) in this kernel's K blocks.</summary>
    public static void Prepack<TA>(ref TA pa, int m, int k, float* dst) where TA : struct, IGemmPackA =>
        GemmDriver.PrepackA(ref pa, m, k, dst, KcStep(k));

    /// <param name="packedA">From <see cref="Prepack{TA}"/>.</param>
    /// <param name="y">The group's output planes [m, OH, OW].</param>
    /// <param name="oy0">First output row of the block; the buffer holds rows from there on.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(in Conv2dPhase phase, float* packedA, int m, int k, float* buffer, int* offsets,
        int oy0, int rows, float* y, float* bias, bool add)
    {
        const int NR = GemmMicroKernel.NR;
        int wq = phase.Wq, ow = phase.OW;
        long plane = (long)phase.OH * ow;
        int cols = rows * wq;
        int mp = GemmDriver.PaddedM(m);
        int kcStep = KcStep(k);
        // One row of slack: the scatter below loads whole 32-float rows from a run's start (segStart ≤ 31), so the last
        // row's loads reach up to 31 floats past mp·NR. Without it a fresh, exactly sized slot at the end of the pinned
        // heap's committed memory faulted (an AccessViolation in CI's test run, 2026-12-07).
        float* strip = GemmScratch.Current.Get(GemmScratch.Block, (long)mp * NR + NR);
        int* segStart = stackalloc int[NR];
        int* segLength = stackalloc int[NR];
        long* segTarget = stackalloc long[NR];
        for (int jr = 0; jr < cols; jr += NR)
        {
            // The strip's valid columns as runs of consecutive output pixels of one row.
            int segments = 0;
            int end = Math.Min(cols, jr + NR);
            for (int q = jr; q < end;)
            {
                int r = q / wq, ox = q - r * wq;
                int rowEnd = Math.Min(end, (r + 1) * wq);
                if (ox < ow)
                {
                    int len = Math.Min(rowEnd - q, ow - ox);
                    segStart[segments] = q - jr;
                    segLength[segments] = len;
                    segTarget[segments] = (long)(oy0 + r) * ow + ox;
                    segments++;
                }
                q = rowEnd;
            }
            if (segments == 0) continue;

            float* b = buffer + jr;
            for (int pc = 0; pc < k; pc += kcStep)
            {
                int kc = Math.Min(kcStep, k - pc);
                var ep = new GemmEpilogue(1f, 0f, null, pc == 0 ? GemmEpilogue.Overwrite : GemmEpilogue.Accumulate);
                float* ablock = packedA + (long)pc * mp;
                for (int ir = 0; ir < mp; ir += GemmMicroKernel.MR)
                    GemmMicroKernel.Kernel8x32Rows(kc, ablock + (long)ir * kc, b, offsets + pc, strip + ir * NR, NR, ep);
            }
            if (Simd.Is512)
            {
                for (int s = 0; s < segments; s++)
                {
                    // Lane masks of the run, shared by all m rows.
                    var n = Vector512.Create(segLength[s]);
                    var m0 = Vector512.LessThan(Iota, n).AsSingle();
                    var m1 = Vector512.LessThan(Iota + Vector512.Create(16), n).AsSingle();
                    float* src = strip + segStart[s];
                    float* dst = y + segTarget[s];
                    for (int o = 0; o < m; o++, src += NR, dst += plane)
                    {
                        var bv = bias == null ? Vector512<float>.Zero : Vector512.Create(bias[o]);
                        var v0 = Vector512.Load(src);
                        var v1 = Vector512.Load(src + 16);
                        if (add)
                        {
                            v0 += Avx512F.MaskLoad(dst, m0, Vector512<float>.Zero);
                            v1 += Avx512F.MaskLoad(dst + 16, m1, Vector512<float>.Zero);
                        }
                        else
                        {
                            v0 += bv;
                            v1 += bv;
                        }
                        Avx512F.MaskStore(dst, m0, v0);
                        Avx512F.MaskStore(dst + 16, m1, v1);
                    }
                }
            }
            else if (Simd.IsVector)
            {
                for (int s = 0; s < segments; s++)
                    ScatterRun256(strip + segStart[s], y + segTarget[s], segLength[s], m, plane, bias, add);
            }
            else
            {
                for (int o = 0; o < m; o++)
                {
                    float* src = strip + o * NR;
                    float* dstRow = y + o * plane;
                    float bv = bias == null ? 0f : bias[o];
                    for (int s = 0; s < segments; s++)
                    {
                        float* a = src + segStart[s], d = dstRow + segTarget[s];
                        for (int i = 0; i < segLength[s]; i++) d[i] = add ? d[i] + a[i] : a[i] + bv;
                    }
                }
            }
        }
    }

    /// <summary>
    /// The 256-bit form of the run scatter above: y[o, 0..len) (+)= strip row o (+ bias[o]) for the m rows, one
    /// 8-lane block at a time — plain loads and stores where the block lies inside the run, <c>vmaskmovps</c> only on
    /// the run's last partial block (AMD's masked stores are slow). The same adds lane by lane, so the same bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ScatterRun256(float* src, float* dst, int len, int m, long plane, float* bias, bool add)
    {
        const int NR = GemmMicroKernel.NR;
        int full = len & ~7;
        var tail = Vector256.LessThan(Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7), Vector256.Create(len - full)).AsSingle();
        for (int o = 0; o < m; o++, src += NR, dst += plane)
        {
            var bv = bias == null ? Vector256<float>.Zero : Vector256.Create(bias[o]);
            int i = 0;
            for (; i < full; i += 8)
            {
                var v = Vector256.Load(src + i);
                v += add ? Vector256.Load(dst + i) : bv;
                Vector256.Store(v, dst + i);
            }
            if (i < len)
            {
                var v = Vector256.Load(src + i);
                v += add ? Avx.MaskLoad(dst + i, tail) : bv;
                Avx.MaskStore(dst + i, tail, v);
            }
        }
    }

    private static readonly Vector512<int> Iota = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
}
