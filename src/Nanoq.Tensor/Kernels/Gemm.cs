namespace Nanoq.Kernels;

/// <summary>
/// Single-precision general matrix multiply, row-major, BLAS semantics:
/// <code>C = α · op(A) · op(B) + β · C</code>
/// <list type="bullet">
/// <item>op(A): [m, k] — A stored [m, k] with row stride lda ≥ k, or [k, m] with lda ≥ m if <c>transA</c>;</item>
/// <item>op(B): [k, n] — B stored [k, n] with ldb ≥ n, or [n, k] with ldb ≥ k if <c>transB</c>;</item>
/// <item>C: [m, n] with ldc ≥ n. When β = 0, C is only written (NaNs in it do not propagate); when α = 0 or
/// k = 0, A and B are not read and C = β·C.</item>
/// </list>
/// Packed, cache-blocked, 8×32 register tiles of <c>Vector512</c> FMAs, split over
/// <see cref="ParallelRunner.MaxDegreeOfParallelism"/> cores by rectangles of C. Results are bit-identical
/// whatever the thread count or scheduling: each element is accumulated by one thread, in K blocks whose sizes
/// depend on k only, by the same FMA sequence whether it lies in a full or an edge tile.
/// Packing buffers are per-thread and reused; steady-state calls allocate nothing.
/// </summary>
public static unsafe class Gemm
{
    /// <summary>C = α·op(A)·op(B) + β·C over spans; checks that every operand is long enough.</summary>
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        Validate(transA, transB, m, n, k, lda, ldb, ldc);
        bool readsAB = m > 0 && n > 0 && k > 0 && alpha != 0f;
        if (readsAB)
        {
            CheckLength("A", a.Length, transA ? k : m, transA ? m : k, lda);
            CheckLength("B", b.Length, transB ? n : k, transB ? k : n, ldb);
        }
        CheckLength("C", c.Length, m, n, ldc);
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
        {
            SgemmCore(transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc, parallel: true);
        }
    }

    /// <summary>C = α·op(A)·op(B) + β·C over raw pointers (sizes and strides are checked, lengths cannot be).</summary>
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
    {
        Validate(transA, transB, m, n, k, lda, ldb, ldc);
        SgemmCore(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, parallel: true);
    }

    /// <summary>The unchecked entry point, for kernels that validated their own sizes.</summary>
    internal static void SgemmCore(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, long ldc, bool parallel)
    {
        if (m == 0 || n == 0) return;
        if (k == 0 || alpha == 0f)
        {
            GemmDriver.ScaleOnly(0, m, 0, n, c, ldc, beta, null);
            return;
        }
        if (!transA)
        {
            var pa = new GemmPackANormal(a, lda);
            if (!transB)
            {
                var pb = new GemmPackBNormal(b, ldb);
                GemmTask<GemmPackANormal, GemmPackBNormal>.Execute(ref pa, ref pb, m, n, k, c, ldc, alpha, beta, null, parallel);
            }
            else
            {
                var pb = new GemmPackBTransposed(b, ldb);
                GemmTask<GemmPackANormal, GemmPackBTransposed>.Execute(ref pa, ref pb, m, n, k, c, ldc, alpha, beta, null, parallel);
            }
        }
        else
        {
            var pa = new GemmPackATransposed(a, lda);
            if (!transB)
            {
                var pb = new GemmPackBNormal(b, ldb);
                GemmTask<GemmPackATransposed, GemmPackBNormal>.Execute(ref pa, ref pb, m, n, k, c, ldc, alpha, beta, null, parallel);
            }
            else
            {
                var pb = new GemmPackBTransposed(b, ldb);
                GemmTask<GemmPackATransposed, GemmPackBTransposed>.Execute(ref pa, ref pb, m, n, k, c, ldc, alpha, beta, null, parallel);
            }
        }
    }

    private static void Validate(bool transA, bool transB, int m, int n, int k, int lda, int ldb, int ldc)
    {
        if (m < 0 || n < 0 || k < 0)
            throw new ArgumentException($"Sgemm: sizes must be non-negative, got m={m}, n={n}, k={k}.");
        int minLda = Math.Max(1, transA ? m : k);
        int minLdb = Math.Max(1, transB ? k : n);
        int minLdc = Math.Max(1, n);
        if (lda < minLda)
            throw new ArgumentException($"Sgemm: lda={lda} is less than {(transA ? "m" : "k")}={minLda} (A is [{(transA ? $"{k}, {m}" : $"{m}, {k}")}]{(transA ? ", transposed" : "")}).");
        if (ldb < minLdb)
            throw new ArgumentException($"Sgemm: ldb={ldb} is less than {(transB ? "k" : "n")}={minLdb} (B is [{(transB ? $"{n}, {k}" : $"{k}, {n}")}]{(transB ? ", transposed" : "")}).");
        if (ldc < minLdc)
            throw new ArgumentException($"Sgemm: ldc={ldc} is less than n={minLdc} (C is [{m}, {n}]).");
    }

    private static void CheckLength(string name, int length, int rows, int cols, int ld)
    {
        if (rows == 0 || cols == 0) return;
        long need = (long)(rows - 1) * ld + cols;
        if (length < need)
            throw new ArgumentException($"Sgemm: {name} holds {length} floats but [{rows}, {cols}] with leading dimension {ld} needs {need}.");
    }
}
