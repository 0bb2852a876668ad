using System.Runtime.CompilerServices;

namespace Nanoq.Kernels;

/// <summary>
/// The blocked SGEMM loop nest (Goto / BLIS), single-threaded over one rectangle of C:
/// <code>
/// for jc in [j0, j1) step NC            B block  kc × nc, packed once per (jc, pc), lives in L2/L3
///   for pc in [0, k) step KC            K blocks: sizes depend on k only (see KcStep), so results do not
///     pack B[pc.., jc..]                depend on how C was split between threads
///     for ic in [i0, i1) step MC        A block  mc × kc (≤ 288 KiB), lives in L2
///       pack A[ic.., pc..]
///       for jr (32-wide panels)         B micro-panel kc × 32 stays in L1 across the ir loop
///         for ir (8-row panels)         micro-kernel: 8×32 tile of C in registers
/// </code>
/// Rectangles of at most <see cref="McMax"/> rows (convolutions: M = output channels) take a fused path instead,
/// see <see cref="RunFused"/>. Operands come through packers (<see cref="IGemmPackA"/>, <see cref="IGemmPackB"/>),
/// so convolution gradients feed im2col panels built from the image (implicit GEMM) and prepacked weights through
/// the same loops. C is row-major: element (i, j) at <c>c[i·ldc + j]</c>.
/// </summary>
internal static unsafe class GemmDriver
{
    /// <summary>Largest K block: a packed 8×32 B micro-panel (384 × 128 bytes) plus A's stay near L1.</summary>
    public const int KcMax = 384;
    /// <summary>Rows of A packed at once (192 × 384 × 4 = 288 KiB, in L2).</summary>
    public const int McMax = 192;
    /// <summary>Columns of B packed at once on the general path (B block up to 3 MiB, in L3).</summary>
    public const int NcMax = 2048;
    /// <summary>Column strip of the small-M path: a packed strip of B (≤ 384 × 256 floats) stays in L2.</summary>
    public const int FusedNc = 256;
    /// <summary>Largest packed A (floats) for the small-M path: all its K blocks must stay in L2 (512 KiB).</summary>
    public const long FusedABudget = 1 << 17;

    /// <summary>
    /// K block size for a K of <paramref name="k"/>: K is cut into ⌈k / KcMax⌉ near-equal blocks (a multiple of 8,
    /// for the transposing packers), the last one possibly shorter. A function of k alone.
    /// </summary>
    public static int KcStep(int k) => KcStep(k, KcMax);

    /// <summary>K block size for blocks of at most <paramref name="kcMax"/> (a multiple of 8).</summary>
    public static int KcStep(int k, int kcMax)
    {
        if (k <= kcMax) return Math.Max(k, 1);
        int blocks = (k + kcMax - 1) / kcMax;
        int step = (k + blocks - 1) / blocks;
        return Math.Min(kcMax, (step + 7) & ~7);
    }

    /// <summary>Rows of <paramref name="m"/> rounded up to whole 8-row panels.</summary>
    public static int PaddedM(int m) => (m + 7) & ~7;

    /// <summary>Floats needed by <see cref="PrepackA{TA}"/> for an m × k operand.</summary>
    public static long PrepackedFloats(int m, int k) => (long)PaddedM(m) * k;

    /// <summary>Packs all of op(A) (m × k) in the driver's block order, for <see cref="GemmPackAPrepacked"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PrepackA<TA>(ref TA pa, int m, int k, float* dst) where TA : struct, IGemmPackA =>
        PrepackA(ref pa, m, k, dst, KcStep(k));

    /// <summary>Packs all of op(A) (m × k) in K blocks of <paramref name="kcStep"/> (the last one shorter).</summary>
    /// <remarks>
    /// A large operand (a ResNet stage's 9 MiB of weights) is packed by all threads, each a range of 8-row panels,
    /// so the other core does not wait through it.
    /// </remarks>
    public static void PrepackA<TA>(ref TA pa, int m, int k, float* dst, int kcStep) where TA : struct, IGemmPackA
    {
        var task = new PrepackTask<TA> { Packer = pa, M = m, K = k, Dst = dst, KcStep = kcStep, Tasks = 1 };
        if ((long)m * k >= PrepackParallelFloats && ParallelRunner.MaxDegreeOfParallelism > 1)
            task.Tasks = Math.Min(ParallelRunner.MaxDegreeOfParallelism, PaddedM(m) / 8);
        if (task.Tasks > 1) ParallelRunner.Run(task.Tasks, ref task);
        else task.Invoke(0);
    }

    /// <summary>Operands at least this big (floats) are prepacked by all threads.</summary>
    private const long PrepackParallelFloats = 1 << 18;

    /// <summary>One range of 8-row panels of a prepacked A, every K block.</summary>
    private struct PrepackTask<TA> : IParallelBody where TA : struct, IGemmPackA
    {
        public TA Packer;
        public int M, K, KcStep, Tasks;
        public float* Dst;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Invoke(int task)
        {
            int mp = PaddedM(M), panels = mp / 8;
            int i0 = (int)((long)panels * task / Tasks) * 8, i1 = Math.Min(M, (int)((long)panels * (task + 1) / Tasks) * 8);
            if (i1 <= i0) return;
            for (int pc = 0; pc < K; pc += KcStep)
            {
                int kc = Math.Min(KcStep, K - pc);
                float* block = Dst + (long)pc * mp + (long)i0 * kc;
                long bytes = (long)PaddedM(i1 - i0) * kc * 4;
                float* packed = Packer.Pack(block, i0, i1 - i0, pc, kc);
                if (packed != block) Buffer.MemoryCopy(packed, block, bytes, bytes);
            }
        }
    }

    /// <summary>
    /// C[i0..i1, j0..j1] = α · op(A)[i0..i1, :] · op(B)[:, j0..j1] + β · C (+ rowBias[i]), with
    /// <paramref name="i0"/> a multiple of 8. β = 0 means C is not read.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TA, TB>(ref TA pa, ref TB pb, int i0, int i1, int j0, int j1, int k,
        float* c, long ldc, float alpha, float beta, float* rowBias)
        where TA : struct, IGemmPackA where TB : struct, IGemmPackB
    {
        if (i1 <= i0 || j1 <= j0) return;
        if (k == 0)
        {
            ScaleOnly(i0, i1, j0, j1, c, ldc, beta, rowBias);
            return;
        }
        var scratch = GemmScratch.Current;
        int kcStep = KcStep(k);
        int ncMax = Math.Min(NcMax, j1 - j0);
        float* bufB = scratch.Get(GemmScratch.PackB, (long)kcStep * ((ncMax + 31) & ~31));
        float* bufA = scratch.Get(GemmScratch.PackA, (long)kcStep * Math.Min(McMax, PaddedM(i1 - i0)));

        if (i1 - i0 <= McMax && (long)PaddedM(i1 - i0) * k <= FusedABudget)
        {
            RunFused(ref pa, ref pb, i0, i1, j0, j1, k, kcStep, c, ldc, alpha, beta, rowBias, scratch);
            return;
        }
        for (int jc = j0; jc < j1; jc += NcMax)
        {
            int nc = Math.Min(NcMax, j1 - jc);
            for (int pc = 0; pc < k; pc += kcStep)
            {
                int kc = Math.Min(kcStep, k - pc);
                pb.Pack(bufB, jc, nc, pc, kc);
                int mode = pc > 0 ? GemmEpilogue.Accumulate : beta == 0f ? GemmEpilogue.Overwrite : GemmEpilogue.ScaleBeta;
                for (int ic = i0; ic < i1; ic += McMax)
                {
                    int mc = Math.Min(McMax, i1 - ic);
                    float* ap = pa.Pack(bufA, ic, mc, pc, kc);
                    var ep = new GemmEpilogue(alpha, beta, rowBias == null ? null : rowBias + ic, mode);
                    Macro(kc, ap, mc, bufB, nc, c + ic * ldc + jc, ldc, ep);
                }
            }
        }
    }

    /// <summary>
    /// Few rows (one A block) and a K small enough that all of A's packed blocks fit in L2: pack A once, then walk
    /// C in narrow column strips, packing each strip of B just before use (into L1) and running it through every K
    /// block, so B is read from memory exactly once, its packed copy never leaves L1 and a C tile stays hot
    /// across K blocks. This is the shape of convolutions (M = output channels).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunFused<TA, TB>(ref TA pa, ref TB pb, int i0, int i1, int j0, int j1, int k, int kcStep,
        float* c, long ldc, float alpha, float beta, float* rowBias, GemmScratch scratch)
        where TA : struct, IGemmPackA where TB : struct, IGemmPackB
    {
        int mc = i1 - i0, mp = PaddedM(mc);
        int blocks = (k + kcStep - 1) / kcStep;
        float* bufA = scratch.Get(GemmScratch.PackA, (long)mp * k);
        float* bufB = scratch.Get(GemmScratch.PackB, (long)kcStep * FusedNc);
        float** aps = stackalloc float*[blocks];
        for (int b = 0; b < blocks; b++)
        {
            int pc = b * kcStep;
            aps[b] = pa.Pack(bufA + (long)pc * mp, i0, mc, pc, Math.Min(kcStep, k - pc));
        }
        int firstMode = beta == 0f ? GemmEpilogue.Overwrite : GemmEpilogue.ScaleBeta;
        float* biasRow = rowBias == null ? null : rowBias + i0;
        for (int jc = j0; jc < j1; jc += FusedNc)
        {
            int nc = Math.Min(FusedNc, j1 - jc);
            for (int b = 0; b < blocks; b++)
            {
                int pc = b * kcStep;
                int kc = Math.Min(kcStep, k - pc);
                pb.Pack(bufB, jc, nc, pc, kc);
                var ep = new GemmEpilogue(alpha, beta, biasRow, b == 0 ? firstMode : GemmEpilogue.Accumulate);
                Macro(kc, aps[b], mc, bufB, nc, c + i0 * ldc + jc, ldc, ep);
            }
        }
    }

    /// <summary>One packed A block (mc × kc) times one packed B block (kc × nc) into C.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Macro(int kc, float* ap, int mc, float* bp, int nc, float* c, long ldc, in GemmEpilogue ep)
    {
        int ldcInt = (int)ldc;
        for (int jr = 0; jr < nc; jr += GemmMicroKernel.NR)
        {
            int w = GemmPanel.Width(nc - jr);
            int nr = Math.Min(w, nc - jr);
            float* b = bp + (long)jr * kc;
            for (int ir = 0; ir < mc; ir += GemmMicroKernel.MR)
            {
                int mr = Math.Min(GemmMicroKernel.MR, mc - ir);
                float* a = ap + (long)ir * kc;
                float* ct = c + ir * ldc + jr;
                var tileEp = ep.Offset(ir);
                if (mr == GemmMicroKernel.MR && nr == w)
                {
                    if (w == GemmMicroKernel.NR) GemmMicroKernel.Kernel8x32(kc, a, b, ct, ldcInt, tileEp);
                    else GemmMicroKernel.Kernel8x16(kc, a, b, ct, ldcInt, tileEp);
                }
                else
                {
                    GemmMicroKernel.KernelEdge(kc, a, b, w, ct, ldcInt, mr, nr, tileEp);
                }
            }
        }
    }

    /// <summary>k = 0 (or α = 0): C = β·C + rowBias, without reading C when β = 0.</summary>
    public static void ScaleOnly(int i0, int i1, int j0, int j1, float* c, long ldc, float beta, float* rowBias)
    {
        for (int i = i0; i < i1; i++)
        {
            float bias = rowBias == null ? 0f : rowBias[i];
            float* cr = c + i * ldc;
            if (beta == 0f)
                for (int j = j0; j < j1; j++) cr[j] = bias;
            else
                for (int j = j0; j < j1; j++) cr[j] = beta * cr[j] + bias;
        }
    }
}
