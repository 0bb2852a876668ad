using Nanoq.Kernels;

namespace Nanoq.Tests.Kernels;

/// <summary>
/// The GEMM micro-kernels at each vector level: the 512-bit 8×32 zmm tile and its 256-bit form (4×16 ymm sub-tiles,
/// k in chunks) must agree with a naive loop and, bit for bit, with each other. On an AVX2-only machine only the Avx2
/// level runs and the cross-level comparison is with itself; it compares the two forms on AVX-512 (CI) machines.
/// The portable level runs the same <c>Vector512</c> code as AVX-512, emulated lane by lane with correctly rounded
/// FMAs, so the micro-kernel test also compares with it: that checks the 256-bit form against the 512-bit
/// arithmetic on any machine.
/// </summary>
[Collection(SimdCollection.Name)]
public unsafe class GemmSimdLevelTests
{
    // kc around the 256-bit form's 128-deep chunks (1, odd, 128, 129, several chunks, the driver's largest block 384).
    private static readonly int[] Depths = [1, 3, 127, 128, 129, 300, 384];

    // 0: 8×32 packed B, 1: 8×32 with B rows in place (at rows[k]), 2: 8×16 packed B.
    public static TheoryData<SimdLevel, int> LevelsAndKernels
    {
        get
        {
            var data = new TheoryData<SimdLevel, int>();
            foreach (var level in SimdLevels.Vector)
                for (int kernel = 0; kernel < 3; kernel++) data.Add(level, kernel);
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(LevelsAndKernels))]
    public void Micro_kernels_match_a_naive_loop_and_the_best_level_bit_for_bit(SimdLevel level, int kernel)
    {
        int width = kernel == 2 ? 16 : 32;
        const int ldc = 37;   // rows of C not 32-aligned, padding after each
        foreach (int kc in Depths)
            foreach (int mode in new[] { GemmEpilogue.Accumulate, GemmEpilogue.Overwrite, GemmEpilogue.ScaleBeta })
            {
                var rng = new Random(kc * 10 + mode + 100 * kernel);
                var a = GemmReference.Random(rng, kc * 8);
                // B rows at a stride of 41 floats, in a shuffled order for the in-place kernel.
                const int ldb = 41;
                var b = GemmReference.Random(rng, kc * ldb + width);
                var rows = new int[kc];
                for (int k = 0; k < kc; k++) rows[k] = (kernel == 1 ? (k * 7 + 3) % kc : k) * ldb;
                var bias = GemmReference.Random(rng, 8);
                var c0 = GemmReference.Random(rng, 8 * ldc);
                float alpha = mode == GemmEpilogue.Accumulate ? -0.75f : 1.25f, beta = 0.5f;
                bool withBias = mode != GemmEpilogue.Accumulate;

                var actual = SimdLevels.With(level, () => Run(kernel, kc, a, b, ldb, rows, c0, ldc, alpha, beta, withBias ? bias : null, mode));
                var best = SimdLevels.With(Simd.Hardware, () => Run(kernel, kc, a, b, ldb, rows, c0, ldc, alpha, beta, withBias ? bias : null, mode));
                Check.Same(best, actual, $"{level} vs {Simd.Hardware}, kernel {kernel}, kc {kc}, mode {mode}");
                var emulated = SimdLevels.With(SimdLevel.Portable, () => Run(kernel, kc, a, b, ldb, rows, c0, ldc, alpha, beta, withBias ? bias : null, mode));
                Check.Same(emulated, actual, $"{level} vs the emulated 512-bit code, kernel {kernel}, kc {kc}, mode {mode}");

                for (int r = 0; r < 8; r++)
                    for (int j = 0; j < ldc; j++)
                    {
                        int i = r * ldc + j;
                        if (j >= width)
                        {
                            Assert.True(c0[i].Equals(actual[i]), $"padding C[{r},{j}] changed");
                            continue;
                        }
                        double s = 0, abs = 0;
                        for (int k = 0; k < kc; k++)
                        {
                            double p = (double)a[k * 8 + r] * b[rows[k] + j];
                            s += p;
                            abs += Math.Abs(p);
                        }
                        double old = mode == GemmEpilogue.Overwrite ? 0 : mode == GemmEpilogue.ScaleBeta ? beta * (double)c0[i] : c0[i];
                        double add = withBias ? bias[r] : 0;
                        double expected = alpha * s + old + add;
                        double bound = (kc + 3) * Math.Pow(2, -23) * (Math.Abs(alpha) * abs + Math.Abs(old) + Math.Abs(add)) + 1e-30;
                        Assert.True(Math.Abs(expected - actual[i]) <= bound,
                            $"{level}, kernel {kernel}, kc {kc}, mode {mode}: C[{r},{j}] = {actual[i]}, expected {expected}");
                    }
            }
    }

    private static float[] Run(int kernel, int kc, float[] a, float[] b, int ldb, int[] rows, float[] c0, int ldc,
        float alpha, float beta, float[]? bias, int mode)
    {
        int width = kernel == 2 ? 16 : 32;
        // The packed kernels read B as a [kc][width] panel: pack it from the row positions.
        var panel = new float[kc * width];
        for (int k = 0; k < kc; k++) Array.Copy(b, rows[k], panel, k * width, width);
        var c = (float[])c0.Clone();
        fixed (float* pa = a, pb = b, pp = panel, pc = c, pbias = bias)
        fixed (int* pr = rows)
        {
            var ep = new GemmEpilogue(alpha, beta, pbias, mode);
            switch (kernel)
            {
                case 0: GemmMicroKernel.Kernel8x32(kc, pa, pp, pc, ldc, ep); break;
                case 1: GemmMicroKernel.Kernel8x32Rows(kc, pa, pb, pr, pc, ldc, ep); break;
                default: GemmMicroKernel.Kernel8x16(kc, pa, pp, pc, ldc, ep); break;
            }
        }
        return c;
    }

    // Whole products through the driver: edge tiles (StoreEdge), the 16-wide panel, several K blocks (k = 400:
    // two blocks of 200; 777: three of 264), the fused small-M path and the general one (m > 192).
    public static TheoryData<SimdLevel, int, int, int> LevelsAndShapes
    {
        get
        {
            var data = new TheoryData<SimdLevel, int, int, int>();
            foreach (var level in SimdLevels.Vector)
                foreach (var (m, n, k) in new[] { (7, 33, 5), (17, 19, 400), (13, 47, 385), (33, 200, 777), (200, 49, 300) })
                    data.Add(level, m, n, k);
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(LevelsAndShapes))]
    public void Sgemm_matches_a_naive_loop_and_the_best_level_bit_for_bit(SimdLevel level, int m, int n, int k)
    {
        var rng = new Random(m * 1000 + n * 10 + k);
        int ldc = n + 3;
        var a = GemmReference.Random(rng, m * k);
        var b = GemmReference.Random(rng, k * n);
        var c0 = GemmReference.Random(rng, m * ldc);
        float[] Run()
        {
            var c = (float[])c0.Clone();
            Gemm.Sgemm(false, false, m, n, k, 0.5f, a, k, b, n, -1.5f, c, ldc);
            return c;
        }
        var actual = SimdLevels.With(level, Run);
        Check.Same(SimdLevels.With(Simd.Hardware, Run), actual, $"{level} vs {Simd.Hardware}");
        var (expected, bound) = GemmReference.Sgemm(false, false, m, n, k, 0.5f, a, k, b, n, -1.5f, c0, ldc);
        GemmReference.AssertClose(expected, bound, actual, $"C at {level}");
    }
}
