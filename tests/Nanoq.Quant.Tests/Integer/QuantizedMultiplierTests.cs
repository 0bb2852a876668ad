using System.Numerics;
using Nanoq.Kernels.Integer;
using Nanoq.Quant.Convert;

namespace Nanoq.Tests.Integer;

/// <summary>
/// QuantizeMultiplier against exact arithmetic: M0 ∈ [2^30, 2^31), M0·2^shift/2^31 within half a unit of M0's last
/// place of M, TFLite's known values, the edges (rounding up to 2^31, tiny and huge multipliers), and the runtime
/// multiply within one step of x·M.
/// </summary>
public class QuantizedMultiplierTests
{
    [Theory]
    [InlineData(0.5, 1 << 30, 0)]                 // 0.5 = 0.5 · 2^0 → 2^30
    [InlineData(1.0, 1 << 30, 1)]                 // 1 = 0.5 · 2^1
    [InlineData(0.75, 3 << 29, 0)]                // 0.75 · 2^31 = 3·2^29
    [InlineData(0.1, 1717986918, -3)]             // 0.1 = 0.8 · 2^−3; 0.8 · 2^31 = 1717986918.4 → 1717986918 (TFLite)
    [InlineData(0.25, 1 << 30, -1)]
    [InlineData(3.0, 3 << 29, 2)]                 // 3 = 0.75 · 2^2
    public void KnownValues(double real, int m0, int shift)
    {
        Assert.Equal(new QuantizedMultiplier(m0, shift), QuantizedMultiplier.Quantize(real));
    }

    [Fact]
    public void Edges()
    {
        Assert.Equal(new QuantizedMultiplier(0, 0), QuantizedMultiplier.Quantize(0));
        // 1 − 2^−40: q·2^31 rounds to 2^31, so the mantissa halves and the exponent grows: (2^30, 1) = 1.0.
        Assert.Equal(new QuantizedMultiplier(1 << 30, 1), QuantizedMultiplier.Quantize(1 - Math.ScaleB(1, -40)));
        // Below 2^−32 the shift would pass −31: the zero multiplier (TFLite).
        Assert.Equal(new QuantizedMultiplier(0, 0), QuantizedMultiplier.Quantize(Math.ScaleB(1, -40)));
        Assert.Equal(new QuantizedMultiplier(1 << 30, -31), QuantizedMultiplier.Quantize(Math.ScaleB(1, -32)));
        // 2^30 needs shift 31: saturates.
        Assert.Equal(new QuantizedMultiplier(int.MaxValue, 30), QuantizedMultiplier.Quantize(Math.ScaleB(1, 30)));
        Assert.Equal(new QuantizedMultiplier(1 << 30, 30), QuantizedMultiplier.Quantize(Math.ScaleB(1, 29)));
        Assert.Throws<ArgumentOutOfRangeException>(() => QuantizedMultiplier.Quantize(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => QuantizedMultiplier.Quantize(double.NaN));
    }

    [Fact]
    public void RandomMultipliers_WithinHalfUnitOfExact()
    {
        var rng = new Rng(31);
        for (int i = 0; i < 20000; i++)
        {
            double real = Math.ScaleB(0.5 + 0.5 * rng.NextDouble(), rng.NextInt(-30, 30));
            var q = QuantizedMultiplier.Quantize(real);
            Assert.InRange(q.Multiplier, 1 << 30, int.MaxValue);
            // |M0·2^(shift−31) − real| ≤ ½·2^(shift−31), exactly: real = mant·2^exp is dyadic, so scale both to a
            // common power of two and compare integers.
            long bits = BitConverter.DoubleToInt64Bits(real);
            int exp = (int)((bits >> 52) & 0x7FF) - 1075;
            var mant = (BigInteger)((bits & 0xFFFFFFFFFFFFFL) | (1L << 52));
            int e1 = q.Shift - 31, lowest = Math.Min(e1, exp) - 1;
            var a = (BigInteger)q.Multiplier << (e1 - lowest);
            var b = mant << (exp - lowest);
            Assert.True(BigInteger.Abs(a - b) <= BigInteger.One << (e1 - 1 - lowest), $"{real}: {q}");
        }
    }

    [Fact]
    public void RuntimeMultiply_WithinOneStepOfRealProduct()
    {
        // DESIGN.md §9: fixed-point multiply within one step of exact. |x·M̂ − x·M| ≤ |x|·M·2^−30 adds to the one unit of
        // the two roundings; with |x| < 2^22 and M < 1 that is below 2^−8.
        var rng = new Rng(32);
        for (int i = 0; i < 20000; i++)
        {
            double real = rng.Uniform(1e-6, 1.0);
            var q = QuantizedMultiplier.Quantize(real);
            int x = rng.NextInt(-(1 << 22), 1 << 22);
            int y = FixedPoint.MultiplyByQuantizedMultiplier(x, q.Multiplier, q.Shift);
            Assert.True(Math.Abs(y - x * real) <= 1 + 1.0 / 256, $"x={x}, M={real}: {y} vs {x * real}");
        }
    }

    [Fact]
    public void BiasAndAddHelpers()
    {
        // b = 0.3, Δ_w = 0.01, Δ_x = 0.5 → 0.3 / 0.005 = 60.
        Assert.Equal([60], QuantizedMultiplier.QuantizeBias([0.3f], [0.01f], 0.5f));
        var p = QuantizedMultiplier.ForAdd(0.5f, 1, 0.25f, 2, 1f, 3, 0, 255);
        // twice_max = 1: M_a = 0.5 → (2^30, 0), M_b = 0.25 → (2^30, −1), M_y = 2^−20 → (2^30, −19).
        Assert.Equal((1 << 30, 0, 1 << 30, -1, 1 << 30, -19), (p.MultiplierA, p.ShiftA, p.MultiplierB, p.ShiftB, p.OutputMultiplier, p.OutputShift));
        Assert.Equal(8, QuantizedAdd.Apply(9, 6, p)); // 4.0 + 1.0 = 5 steps of Δ_y, + z_y 3
    }
}
