using Nanoq.Autograd;
using Nanoq.Kernels;
using Nanoq.Kernels.Integer;
using Nanoq.Nn.Layers;
using Nanoq.Nn.Taps;
using Nanoq.Quant;
using Nanoq.Quant.Convert;
using Nanoq.Quant.Quantizers;
using Nanoq.Tests.Modules;

namespace Nanoq.Tests.Convert;

/// <summary>
/// <see cref="ConvConverter.Convert"/> on a hand-made 1×1 conv whose every converted number can be worked out on paper
/// (DESIGN.md §5, integer-only runtime): weight grids and codes, bias_q = round(b / (Δ_w[c]·Δ_x)) half to even with
/// each channel's own Δ_w and the input's Δ_x, M[c] = Δ_w[c]·Δ_x / Δ_y, and the activation as the clamp.
/// </summary>
public class ConvConverterTests
{
    // Three output channels over two inputs, per-channel 4-bit weights:
    //   c0: [−1, 2]      → Δ = 3/15 = 0.2, z = round(1/0.2) = 5; codes −1 → 0, 2 → 15
    //   c1: [0, 1.875]   → Δ = 1.875/15 = 0.125, z = 0;           codes 0, 15
    //   c2: [−1.875, −0.5] widened to [−1.875, 0] → Δ = 0.125, z = 15; codes −1.875 → 0, −0.5 → −4 + 15 = 11
    // Input Δ_x = 0.25, z_x = 4; output Δ_y = 1, z_y = 2 (4 bits).
    //   bias_q[0] = 0.33 / (0.2·0.25) = 6.6 → 7           (truncation would give 6; Δ_y in place of Δ_x, 1.65 → 2)
    //   bias_q[1] = 0.140625 / (0.125·0.25) = 4.5 → 4      (a tie: half away would give 5; c0's Δ_w, 2.8125 → 3)
    //   bias_q[2] = −0.140625 / 0.03125 = −4.5 → −4        (half away: −5)
    //   M[0] = 0.2·0.25 / 1 = 0.05 = 0.8·2^−4;  M[1] = M[2] = 0.03125 = 0.5·2^−4 → (2^30, −4)
    private static OneConv Layer(ActivationKind activation)
    {
        var conv = new Conv2d(2, 3, 1);
        float[] w = [-1f, 2f, 0f, 1.875f, -1.875f, -0.5f];
        w.CopyTo(conv.Weight.Value.Span);
        float[] b = [0.33f, 0.140625f, -0.140625f];
        b.CopyTo(conv.Bias!.Value.Span);
        var outQ = new ActQuantizer(4);
        outQ.SetQParams(new QParams(1f, 2, 4));
        return OneConv.Converted(conv, null, activation, new WeightQuantizer(4, perChannel: true, 3), outQ);
    }

    private static readonly QParams Input = new(0.25f, 4, 4);

    [Fact]
    public void WeightsBiasAndMultipliersByHand()
    {
        var s = ConvConverter.Convert("c", Layer(ActivationKind.None).Unit, Input);
        Assert.Equal([0.2f, 0.125f, 0.125f], s.WeightScales);
        Assert.Equal([5, 0, 15], s.WeightZeroPoints);
        Assert.Equal([0, 15, 0, 15, 0, 11], s.WeightCodes);
        Assert.Equal([7, 4, -4], s.Bias);
        Assert.Equal([-4, -4, -4], s.Shifts);
        Assert.Equal([1 << 30, 1 << 30], s.Multipliers[1..]);
        // 0.8·2^31 = 1717986918.4; Δ_w[0] is the float nearest 0.2 (0.2 + 3e−9), so M0 lies within 2^31·1.5e−8 ≈ 32 of it.
        Assert.InRange(s.Multipliers[0], 1717986918 - 40, 1717986918 + 40);
        Assert.Equal(Input, s.Input);
        Assert.Equal(new QParams(1f, 2, 4), s.Output);
        Assert.Equal((0, 15), (s.ClampMin, s.ClampMax));
    }

    [Fact]
    public void ReluClampsAtTheOutputZeroPoint()
    {
        // Real 0 is code z_y = 2: ReLU keeps codes 2..15.
        var s = ConvConverter.Convert("c", Layer(ActivationKind.Relu).Unit, Input);
        Assert.Equal((2, 15), (s.ClampMin, s.ClampMax));
        Assert.Equal(ActivationKind.Relu, s.Activation);
    }

    [Fact]
    public void Relu6ClampsAtTheCodeOfSix()
    {
        // Δ_y = 1: real 6 is code 2 + 6 = 8, below 2^4 − 1, so the clamp's top is 8.
        var s = ConvConverter.Convert("c", Layer(ActivationKind.Relu6).Unit, Input);
        Assert.Equal((2, 8), (s.ClampMin, s.ClampMax));
    }

    [Fact]
    public void IntegerConvReproducesTheFakeQuantLayer()
    {
        // The converted layer run by the integer reference conv against the fake-quant layer's own codes, on every
        // 4-bit input pair: the bias and the requantization are within ½·M + rounding of exact, so codes agree except
        // at near-ties, and never by more than one step.
        foreach (var act in new[] { ActivationKind.None, ActivationKind.Relu, ActivationKind.Relu6 })
        {
            var layer = Layer(act);
            var s = ConvConverter.Convert("c", layer.Unit, Input);
            int mismatches = 0, total = 0;
            for (int a = 0; a < 16; a++)
                for (int b = 0; b < 16; b++)
                {
                    var x = Tensor.FromArray([(a - 4) * 0.25f, (b - 4) * 0.25f], 1, 2, 1, 1);
                    var y = layer.Forward(new Var(x)).Value.Span;
                    var g = new Conv2dGeometry(1, 2, 1, 1, 3, 1, 1, 0);
                    var codes = new byte[3];
                    var rq = new Requantization(s.Multipliers, s.Shifts, s.Output.ZeroPoint, s.ClampMin, s.ClampMax);
                    IntConv2dReference.Forward(g, [(byte)a, (byte)b], s.Input.ZeroPoint, s.WeightCodes,
                        s.WeightZeroPoints, s.Bias, rq, codes);
                    for (int c = 0; c < 3; c++)
                    {
                        int expected = (int)MathF.Round(y[c] / s.Output.Scale) + s.Output.ZeroPoint;
                        Assert.InRange(codes[c] - expected, -1, 1);
                        if (codes[c] != expected) mismatches++;
                        total++;
                    }
                }
            Assert.True(mismatches <= total / 20, $"{act}: {mismatches} of {total} codes off by one");
        }
    }
}
