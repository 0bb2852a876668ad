using Nanoq.Quant;
using Nanoq.Quant.Convert;
using Nanoq.Quant.Kernels;

namespace Nanoq.Tests.Kernels;

/// <summary>
/// The code-producing <see cref="FakeQuantKernels.Quantize"/> (image codes on entry, and through
/// <see cref="WeightCodes.Quantize(Tensor, ChannelQParams)"/> the weight codes of the integer model) against
/// torch.quantize_per_tensor / quantize_per_channel (tools/gen_rule_fixtures.py → data/torch/quantize_ties.json) on
/// inputs whose product with 1/Δ is exactly k + ½ in float32, for every k of the grid and a step beyond: PyTorch's
/// std::nearbyint rounds them to even, so 2.5 → 2 and −2.5 → −2 where half-away would give 3 and −3. About half the
/// ties of each case have an even k, so any other tie rule changes dozens of codes.
/// </summary>
public class QuantizeTiesTests
{
    private static IEnumerable<System.Text.Json.JsonElement> Cases(string kind)
    {
        var cases = TorchFixture.Cases("quantize_ties.json").EnumerateArray().Where(c => c.GetProperty("kind").GetString() == kind).ToList();
        Assert.NotEmpty(cases); // a loop over no fixture cases would pass anything
        return cases;
    }

    [Fact]
    public void PerTensorCodesAreTorchQuantizePerTensor()
    {
        foreach (var c in Cases("per_tensor"))
        {
            float scale = c.Float("scale");
            int z = c.Int("zero_point"), qmax = (1 << c.Int("bits")) - 1;
            var x = c.Floats("x");
            var expected = c.Ints("codes");
            var codes = new byte[x.Length];
            FakeQuantKernels.Quantize(x, scale, z, qmax, codes);
            AssertCodes(expected, codes, x, $"Δ={scale:G9} z={z}");
            // The case has ties to test, half of them at even k (where half-to-even and half-away differ).
            float inv = 1f / scale;
            var ties = x.Select(v => v * inv).Where(t => t - MathF.Floor(t) == 0.5f).ToArray();
            Assert.True(ties.Length >= 5 && ties.Count(t => MathF.Floor(t) % 2 == 0) >= 2, $"Δ={scale:G9}: {ties.Length} ties");

            // The per-tensor weight path is the same kernel through WeightCodes.
            var q = new QParams(scale, z, c.Int("bits"));
            AssertCodes(expected, WeightCodes.Quantize(Tensor.FromArray(x), q), x, $"WeightCodes {q}");
        }
    }

    [Fact]
    public void PerChannelWeightCodesAreTorchQuantizePerChannel()
    {
        var c = Cases("per_channel").Single();
        var shape = c.Ints("shape");
        var x = c.Floats("x");
        var q = new ChannelQParams(c.Floats("scales"), c.Ints("zero_points"), c.Int("bits"), 0);
        var codes = WeightCodes.Quantize(Tensor.FromArray(x, shape[0], shape[1], 1, 1), q);
        AssertCodes(c.Ints("codes"), codes, x, "per channel");
    }

    [Fact]
    public void ExactTiesRoundToEven()
    {
        // Δ = 0.25 (1/Δ = 4 exactly), z = 5, 4 bits: x = 0.625 → 2.5 → 2 (+5 = 7); 0.875 → 3.5 → 4 (9);
        // −0.625 → −2.5 → −2 (3); −0.875 → −3.5 → −4 (1). Half-away would give 8, 9, 2, 1.
        var codes = new byte[4];
        FakeQuantKernels.Quantize([0.625f, 0.875f, -0.625f, -0.875f], 0.25f, 5, 15, codes);
        Assert.Equal([7, 9, 3, 1], codes);
    }

    private static void AssertCodes(int[] expected, byte[] actual, float[] x, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(expected[i] == actual[i],
                $"{what}: x = {x[i]:G9} ({BitConverter.SingleToUInt32Bits(x[i]):x8}): PyTorch code {expected[i]}, Nanoq {actual[i]}");
    }
}
