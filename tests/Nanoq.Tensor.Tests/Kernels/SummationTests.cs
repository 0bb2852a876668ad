using Nanoq.Kernels;

namespace Nanoq.Tests.Kernels;

public class SummationTests
{
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
