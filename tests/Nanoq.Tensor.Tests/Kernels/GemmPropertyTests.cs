using FsCheck.Xunit;
using Nanoq.Kernels;

namespace Nanoq.Tests.Kernels;

public class GemmPropertyTests
{
    /// <summary>op(A)·(B1 + B2) = op(A)·B1 + op(A)·B2 and (sA)·B = s(A·B), within float rounding.</summary>
    [Property(MaxTest = 40)]
    public bool Gemm_is_linear(byte mb, byte nb, byte kb, bool transA, bool transB, int seed)
    {
        int m = mb % 40, n = nb % 70, k = kb % 60;
        var rng = new Random(seed);
        int lda = transA ? m + 1 : k + 1, ldb = transB ? k + 2 : n + 2;
        var a = GemmReference.Random(rng, (transA ? k : m) * lda + 1);
        var b1 = GemmReference.Random(rng, (transB ? n : k) * ldb + 1);
        var b2 = GemmReference.Random(rng, b1.Length);
        var bs = new float[b1.Length];
        for (int i = 0; i < bs.Length; i++) bs[i] = b1[i] + b2[i];
        var c1 = new float[m * n];
        var c2 = new float[m * n];
        var cs = new float[m * n];
        var c3 = new float[m * n];
        Gemm.Sgemm(transA, transB, m, n, k, 1f, a, lda, b1, ldb, 0f, c1, Math.Max(1, n));
        Gemm.Sgemm(transA, transB, m, n, k, 1f, a, lda, b2, ldb, 0f, c2, Math.Max(1, n));
        Gemm.Sgemm(transA, transB, m, n, k, 1f, a, lda, bs, ldb, 0f, cs, Math.Max(1, n));
        Gemm.Sgemm(transA, transB, m, n, k, -3f, a, lda, b1, ldb, 0f, c3, Math.Max(1, n));
        double tol = 4 * (k + 2) * Math.Pow(2, -23) * Math.Max(1, k);
        for (int i = 0; i < cs.Length; i++)
        {
            if (Math.Abs(cs[i] - (c1[i] + c2[i])) > tol) return false;
            if (Math.Abs(c3[i] + 3f * c1[i]) > 3 * tol) return false;
        }
        return true;
    }
}
