namespace Nanoq.Tests.Kernels;

/// <summary>Naive double-precision GEMM, random operands and a tolerance scaled by the magnitude of the sum.</summary>
internal static class GemmReference
{
    public static float[] Random(Random rng, int n, float lo = -1f, float hi = 1f)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = lo + (hi - lo) * (float)rng.NextDouble();
        return a;
    }

    /// <summary>
    /// Expected C and, per element, the bound on float32 rounding error: (k + 2)·2⁻²³ · (|α|·Σ|a·b| + |β·c|), the
    /// classic worst case for a length-k dot product (Higham, §3.1).
    /// </summary>
    public static (double[] Value, double[] Bound) Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        float[] a, int lda, float[] b, int ldb, float beta, float[] c, int ldc)
    {
        var value = new double[c.Length];
        var bound = new double[c.Length];
        for (int i = 0; i < c.Length; i++) value[i] = c[i];
        double eps = (k + 2) * Math.Pow(2, -23);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0, abs = 0;
                for (int p = 0; p < k; p++)
                {
                    double av = transA ? a[p * lda + i] : a[i * lda + p];
                    double bv = transB ? b[j * ldb + p] : b[p * ldb + j];
                    s += av * bv;
                    abs += Math.Abs(av * bv);
                }
                double old = beta == 0f ? 0 : beta * (double)c[i * ldc + j];
                value[i * ldc + j] = alpha * s + old;
                bound[i * ldc + j] = eps * (Math.Abs(alpha) * abs + Math.Abs(old)) + 1e-30;
            }
        return (value, bound);
    }

    public static void AssertClose(double[] expected, double[] bound, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double err = Math.Abs(expected[i] - actual[i]);
            Assert.True(err <= bound[i], $"{what}[{i}]: {actual[i]}, expected {expected[i]} (error {err:E2} > bound {bound[i]:E2})");
        }
    }
}
