using Nanoq.Kernels;

namespace Nanoq.Tests.Kernels;

public class GemmTests
{
    // Sizes around the 8×32 tile and the 16-wide edge panel: 0, 1, odd, non-multiples of 16, several K blocks.
    public static TheoryData<int, int, int> Shapes => new()
    {
        { 0, 0, 0 }, { 0, 5, 3 }, { 4, 0, 3 }, { 3, 4, 0 }, { 1, 1, 1 }, { 1, 17, 1 }, { 9, 1, 5 },
        { 7, 33, 5 }, { 8, 32, 16 }, { 16, 48, 31 }, { 17, 19, 400 }, { 13, 47, 385 }, { 65, 100, 9 },
        { 33, 200, 777 }, { 200, 15, 64 }, { 130, 130, 130 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void All_transposes_with_padded_leading_dims_match_a_naive_loop(int m, int n, int k)
    {
        var rng = new Random(m * 1000 + n * 10 + k);
        var scalings = new[] { (1f, 0f), (0.5f, -1.5f), (-2f, 1f) };
        for (int combo = 0; combo < 4; combo++)
            foreach (var (alpha, beta) in m * n * k < 100_000 ? scalings : [scalings[combo % 3]])
            {
                bool ta = combo / 2 == 1, tb = combo % 2 == 1;
                int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 2, ldc = n + 5;
                var a = GemmReference.Random(rng, (ta ? k : m) * lda);
                var b = GemmReference.Random(rng, (tb ? n : k) * ldb);
                var c = GemmReference.Random(rng, m * ldc);
                var (expected, bound) = GemmReference.Sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
                // Padding between rows of C must come back untouched.
                for (int i = 0; i < m; i++)
                    for (int j = n; j < ldc; j++) bound[i * ldc + j] = 0;
                Gemm.Sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
                GemmReference.AssertClose(expected, bound, c, $"C (transA={ta}, transB={tb}, α={alpha}, β={beta})");
            }
    }

    [Fact]
    public void Beta_zero_overwrites_C_without_reading_it()
    {
        var rng = new Random(1);
        int m = 19, n = 37, k = 11;
        var a = GemmReference.Random(rng, m * k);
        var b = GemmReference.Random(rng, k * n);
        var c = new float[m * n];
        Array.Fill(c, float.NaN);
        Gemm.Sgemm(false, false, m, n, k, 1f, a, k, b, n, 0f, c, n);
        var (expected, bound) = GemmReference.Sgemm(false, false, m, n, k, 1f, a, k, b, n, 0f, new float[m * n], n);
        GemmReference.AssertClose(expected, bound, c, "C");
    }

    [Fact]
    public void Alpha_zero_scales_C_and_reads_neither_A_nor_B()
    {
        var c = new float[] { 1, 2, 3, 4, 5, 6 };
        Gemm.Sgemm(false, true, 2, 3, 4, 0f, ReadOnlySpan<float>.Empty, 4, ReadOnlySpan<float>.Empty, 4, 2f, c, 3);
        Assert.Equal(new float[] { 2, 4, 6, 8, 10, 12 }, c);
        Gemm.Sgemm(false, false, 2, 3, 0, 1f, ReadOnlySpan<float>.Empty, 1, ReadOnlySpan<float>.Empty, 3, 0f, c, 3);
        Assert.Equal(new float[6], c);
    }

    [Fact]
    public void Hand_computed_2x2()
    {
        // [1 2; 3 4] · [5 6; 7 8] = [19 22; 43 50]; α = 2, β = 1 on C = [1 1; 1 1] → [39 45; 87 101].
        float[] a = { 1, 2, 3, 4 }, b = { 5, 6, 7, 8 }, c = { 1, 1, 1, 1 };
        Gemm.Sgemm(false, false, 2, 2, 2, 2f, a, 2, b, 2, 1f, c, 2);
        Assert.Equal(new float[] { 39, 45, 87, 101 }, c);
        // Aᵀ·Bᵀ = (B·A)ᵀ: B·A = [23 34; 31 46] → [23 31; 34 46].
        Gemm.Sgemm(true, true, 2, 2, 2, 1f, a, 2, b, 2, 0f, c, 2);
        Assert.Equal(new float[] { 23, 31, 34, 46 }, c);
    }

    [Fact]
    public void Results_are_bit_identical_on_one_and_on_all_threads()
    {
        var rng = new Random(7);
        int m = 150, n = 300, k = 900;
        var a = GemmReference.Random(rng, m * k);
        var b = GemmReference.Random(rng, k * n);
        var c1 = GemmReference.Random(rng, m * n);
        var c2 = (float[])c1.Clone();
        Threads.With(1, () => { Gemm.Sgemm(false, true, m, n, k, 0.7f, a, k, b, k, 0.3f, c1, n); return 0; });
        Threads.With(Math.Max(2, Environment.ProcessorCount), () => { Gemm.Sgemm(false, true, m, n, k, 0.7f, a, k, b, k, 0.3f, c2, n); return 0; });
        Assert.Equal(c1, c2);
    }

    [Fact]
    public void A_sub_block_of_C_computes_the_same_bits_as_the_whole()
    {
        // Rows 5.. and columns 3.. of the product land in different tiles (edge vs full) than in the full call.
        var rng = new Random(8);
        int m = 40, n = 70, k = 50;
        var a = GemmReference.Random(rng, m * k);
        var b = GemmReference.Random(rng, k * n);
        var full = new float[m * n];
        Gemm.Sgemm(false, false, m, n, k, 1f, a, k, b, n, 0f, full, n);
        var part = new float[m * n];
        Gemm.Sgemm(false, false, m - 5, n - 3, k, 1f, a.AsSpan(5 * k), k, b.AsSpan(3), n, 0f, part.AsSpan(5 * n + 3), n);
        for (int i = 5; i < m; i++)
            for (int j = 3; j < n; j++) Assert.Equal(full[i * n + j], part[i * n + j]);
    }

    [Fact]
    public void Bad_sizes_are_rejected_with_the_sizes_named()
    {
        var x = new float[100];
        var e = Assert.Throws<ArgumentException>(() => Gemm.Sgemm(false, false, 4, 5, 6, 1f, x, 5, x, 5, 0f, x, 5));
        Assert.Contains("lda=5", e.Message);
        e = Assert.Throws<ArgumentException>(() => Gemm.Sgemm(false, true, 4, 5, 6, 1f, x, 6, x, 5, 0f, x, 5));
        Assert.Contains("ldb=5", e.Message);
        e = Assert.Throws<ArgumentException>(() => Gemm.Sgemm(false, false, 4, 5, 6, 1f, x, 6, x, 5, 0f, x, 4));
        Assert.Contains("ldc=4", e.Message);
        e = Assert.Throws<ArgumentException>(() => Gemm.Sgemm(false, false, 11, 10, 10, 1f, x, 10, x, 10, 0f, x, 10));
        Assert.Contains("A holds 100 floats", e.Message);
        e = Assert.Throws<ArgumentException>(() => Gemm.Sgemm(false, false, -1, 5, 6, 1f, x, 6, x, 5, 0f, x, 5));
        Assert.Contains("m=-1", e.Message);
    }
}
