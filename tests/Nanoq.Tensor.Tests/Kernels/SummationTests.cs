using Nanoq.Kernels;

namespace Nanoq.Tests.Kernels;

[Collection(SimdCollection.Name)]
public class SummationTests
{
    /// <summary>
    /// Every reduction gives the same bits at every vector level (16 double lanes a block at both, folded in one order):
    /// batch-norm statistics, and so training, do not depend on the machine. On a CPU without AVX-512 only the AVX2 level
    /// runs and this compares it with itself; on an AVX-512 machine it compares the two forms.
    /// </summary>
    [Fact]
    public void Reductions_are_bit_identical_across_vector_levels()
    {
        var rng = new Rng(9);
        foreach (int n in new[] { 0, 7, 8, 15, 16, 17, 31, 32, 40, 63, 100, 257, 4099 })
        {
            var a = new float[n];
            var b = new float[n];
            for (int i = 0; i < n; i++) { a[i] = rng.Uniform(-3f, 5f) * (1 + i % 7); b[i] = rng.Uniform(-1f, 2f); }
            (double, double, double, double, double, double[]) Run()
            {
                var (s, s2) = Summation.ShiftedMoments(a, 0.37);
                var (sum, dot) = Summation.SumAndDot(a, b, -0.25);
                var acc = new double[n];
                Summation.AccumulateInto(a, acc);
                return (Summation.Sum(a), s, s2, sum, dot, acc);
            }
            var first = SimdLevels.With(SimdLevels.VectorLevels[0], Run);
            foreach (var level in SimdLevels.VectorLevels)
            {
                var r = SimdLevels.With(level, Run);
                Assert.Equal(BitConverter.DoubleToInt64Bits(first.Item1), BitConverter.DoubleToInt64Bits(r.Item1));
                Assert.Equal(BitConverter.DoubleToInt64Bits(first.Item2), BitConverter.DoubleToInt64Bits(r.Item2));
                Assert.Equal(BitConverter.DoubleToInt64Bits(first.Item3), BitConverter.DoubleToInt64Bits(r.Item3));
                Assert.Equal(BitConverter.DoubleToInt64Bits(first.Item4), BitConverter.DoubleToInt64Bits(r.Item4));
                Assert.Equal(BitConverter.DoubleToInt64Bits(first.Item5), BitConverter.DoubleToInt64Bits(r.Item5));
                Assert.Equal(first.Item6, r.Item6);
                // And each is the sum it claims to be.
                double exact = 0;
                foreach (float v in a) exact += v;
                Assert.Equal(exact, r.Item1, 1e-9 * (1 + Math.Abs(exact)));
            }
        }
    }

    [Fact]
    public void Sums_match_a_double_loop_for_every_length_up_to_256()
    {
        var rng = new Rng(1);
        for (int n = 0; n <= 256; n++)
        {
            var x = Data.Uniform(rng, n);
            var b = Data.Uniform(rng, n);
            double s = 0, abs = 0, d = 0, dShift = 0, m1 = 0, m2 = 0;
            const double shift = 0.25;
            for (int i = 0; i < n; i++)
            {
                s += x[i];
                abs += Math.Abs(x[i]);
                d += (double)x[i] * b[i];
                dShift += (double)x[i] * (b[i] - shift);
                m1 += x[i] - shift;
                m2 += (x[i] - shift) * (double)(x[i] - shift);
            }
            double tol = 1e-12 * (abs + 1) * 8;
            Assert.Equal(s, Summation.Sum(x), tol);
            Assert.Equal(d, Summation.Dot(x, b), tol);
            Assert.Equal(dShift, Summation.Dot(x, b, shift), tol);
            // The fused pass's sum is Sum's, bit for bit (batch norm's backward took the two apart before); its dot is Dot.
            var (fusedSum, fusedDot) = Summation.SumAndDot(x, b, shift);
            Assert.Equal(BitConverter.DoubleToInt64Bits(Summation.Sum(x)), BitConverter.DoubleToInt64Bits(fusedSum));
            Assert.Equal(dShift, fusedDot, tol);
            var (a1, a2) = Summation.ShiftedMoments(x, shift);
            Assert.Equal(m1, a1, tol);
            Assert.Equal(m2, a2, tol * 8);

            var acc = new double[n];
            for (int i = 0; i < n; i++) acc[i] = i;
            Summation.AccumulateInto(x, acc);
            for (int i = 0; i < n; i++) Assert.Equal(i + (double)x[i], acc[i]);
        }
    }

    [Fact]
    public void A_million_tenths_sum_to_what_double_says()
    {
        // In float32, adding 0.1f a million times one by one drifts to ≈ 100958; the double accumulator gives
        // 10⁶ · 0.100000001490116 = 100000.0015.
        var x = new float[1_000_000];
        Array.Fill(x, 0.1f);
        Assert.Equal(100000.00149011612, Summation.Sum(x), 1e-6);
    }

    [Fact]
    public void Narrow_scales_then_rounds_once()
    {
        var y = new float[3];
        Summation.Narrow([1.0, 2.0, 3.0], 0.5, y);
        Assert.Equal([0.5f, 1f, 1.5f], y);
    }

    [Fact]
    public void Length_mismatch_throws()
    {
        Assert.Throws<ArgumentException>(() => Summation.Dot(new float[3], new float[4]));
        Assert.Throws<ArgumentException>(() => Summation.AccumulateInto(new float[3], new double[4]));
    }
}
