using Nanoq.Kernels;
using Nanoq.Quant.Kernels;

namespace Nanoq.Tests.Kernels;

/// <summary>
/// The integer runtime's float edges: <see cref="FakeQuantKernels.Quantize"/> (image → codes) and
/// <see cref="FakeQuantKernels.Dequantize"/> (codes → reals) run 16 lanes (AVX-512) or 32 and 8 (AVX2) at a time with a scalar tail. Every length
/// 0..70 (all tails), ties, ±∞, values far off the grid: the codes are the scalar formula's
/// clamp(round_half_even(x·(1/Δ)) + z, 0, 2^k − 1), and dequantized codes are the fake-quant forward bit for bit.
/// A NaN is named by its index wherever it sits in a vector block.
/// </summary>
[Collection(SimdCollection.Name)]
public class CodeEdgeKernelTests
{
    private static float[] Values(Rng rng, int n, float scale)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++)
            x[i] = rng.NextInt(8) switch
            {
                0 => (rng.NextInt(-40, 40) + 0.5f) * scale,        // a tie of x·(1/Δ) (up to float rounding)
                1 => float.PositiveInfinity,
                2 => float.NegativeInfinity,
                3 => rng.Uniform(-1e30f, 1e30f),
                _ => rng.Uniform(-20f, 20f) * scale,
            };
        return x;
    }

    /// <summary>At each level the CPU has (scalar, AVX2's 32-code blocks, AVX-512's 16): the same codes. The class runs
    /// alone (<see cref="SimdCollection"/>): a lowered level must not reach tests running beside it.</summary>
    [Fact]
    public void Quantize_is_the_scalar_formula_and_dequantize_is_the_fake_quant_forward()
    {
        foreach (var level in SimdLevels.AllLevels) SimdLevels.With(level, QuantizeAndDequantize);
    }

    private static void QuantizeAndDequantize()
    {
        var rng = new Rng(17);
        for (int n = 0; n <= 70; n++)
            foreach (int bits in new[] { 4, 8 })
            {
                float scale = rng.Uniform(0.01f, 0.7f);
                int qmax = (1 << bits) - 1, z = rng.NextInt(qmax + 1);
                var x = Values(rng, n, scale);
                var codes = new byte[n];
                FakeQuantKernels.Quantize(x, scale, z, qmax, codes);
                float inv = 1f / scale;
                for (int i = 0; i < n; i++)
                {
                    float t = MathF.Min(MathF.Max(MathF.Round(x[i] * inv) + z, 0f), qmax);
                    Assert.True((byte)t == codes[i], $"n={n} i={i}: x={x[i]:G9} → {codes[i]}, expected {(byte)t}");
                }
                var back = new float[n];
                FakeQuantKernels.Dequantize(codes, scale, z, back);
                var forward = new float[n];
                FakeQuantKernels.Forward(x, scale, z, qmax, forward);
                for (int i = 0; i < n; i++)
                    Assert.True(BitConverter.SingleToInt32Bits(forward[i]) == BitConverter.SingleToInt32Bits(back[i]),
                        $"n={n} i={i}: dequantized {back[i]:G9}, fake quant {forward[i]:G9}");
            }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(37)]
    public void A_NaN_is_named_wherever_it_sits(int at)
    {
        var x = Enumerable.Range(0, 40).Select(i => i * 0.1f).ToArray();
        x[at] = float.NaN;
        var ex = Assert.Throws<ArgumentException>(() => FakeQuantKernels.Quantize(x, 0.5f, 3, 15, new byte[40]));
        Assert.Contains($"element {at} is NaN", ex.Message);
    }
}
