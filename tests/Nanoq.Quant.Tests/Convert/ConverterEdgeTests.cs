using Nanoq.Nn.Layers;
using Nanoq.Nn.Taps;
using Nanoq.Quant;
using Nanoq.Quant.Convert;
using Nanoq.Quant.Quantizers;
using Nanoq.Tests.Modules;

namespace Nanoq.Tests.Convert;

/// <summary>
/// The converter's other branches, by hand: per-tensor weights, the refusals, the int32 range checks, the quantized
/// ADD's multipliers, and the small formulas of <see cref="QuantizedMultiplier"/> the mutation run found unpinned.
/// </summary>
public class ConverterEdgeTests
{
    private static ConvUnit Layer(float[] w, float[] b, int kernel = 1, bool perChannel = true, QParams? output = null,
        QuantScheme scheme = QuantScheme.Affine)
    {
        int cout = b.Length, cin = w.Length / (cout * kernel * kernel);
        var conv = new Conv2d(cin, cout, kernel);
        w.CopyTo(conv.Weight.Value.Span);
        b.CopyTo(conv.Bias!.Value.Span);
        var outQ = new ActQuantizer(4);
        outQ.SetQParams(output ?? new QParams(1f, 2, 4));
        FakeQuantizer wq = scheme == QuantScheme.DoReFa ? new DoReFaWeightQuantizer(4) : new WeightQuantizer(4, perChannel, cout);
        return OneConv.Converted(conv, null, ActivationKind.None, wq, outQ).Unit;
    }

    [Fact]
    public void PerTensorWeightsShareOneGrid()
    {
        // All six weights in [−1.875, 1.875] on 4 bits: Δ = 3.75/15 = 0.25, z = round(7.5) = 8 (half to even).
        // Codes: −1 → −4 + 8 = 4, 1.875 → 7.5 → 8 + 8 = 16 → clamped to 15, −1.875 → 0, 0.5 → 10, 0 → 8, 1 → 12.
        var s = ConvConverter.Convert("t", Layer([-1f, 1.875f, -1.875f, 0.5f, 0f, 1f], [0f, 0f, 0f], perChannel: false),
            new QParams(0.25f, 4, 4));
        Assert.Equal([0.25f, 0.25f, 0.25f], s.WeightScales);
        Assert.Equal([8, 8, 8], s.WeightZeroPoints);
        Assert.Equal([4, 15, 0, 10, 8, 12], s.WeightCodes);
    }

    [Fact]
    public void RefusesWhatHasNoIntegerRuntime()
    {
        var input = new QParams(0.25f, 4, 4);
        float[] w = [-1f, 2f], b = [0f];
        var off = Layer(w, b);
        ((FakeQuantizer)off.WeightQuantizer!).Enabled = false;
        Assert.Throws<InvalidOperationException>(() => ConvConverter.Convert("off", off, input));
        Assert.Throws<NotSupportedException>(() => ConvConverter.Convert("dorefa", Layer(w, b, scheme: QuantScheme.DoReFa), input));
        var noOut = OneConv.Converted(new Conv2d(2, 1, 1), null, ActivationKind.None, new WeightQuantizer(4, true, 1), null);
        Assert.Throws<InvalidOperationException>(() => ConvConverter.Convert("no-out", noOut.Unit, input));
        var uncalibrated = OneConv.Converted(new Conv2d(2, 1, 1), null, ActivationKind.None, new WeightQuantizer(4, true, 1), new ActQuantizer(4));
        Assert.Throws<InvalidOperationException>(() => ConvConverter.Convert("uncalibrated", uncalibrated.Unit, input));
        var doReFaOut = OneConv.Converted(new Conv2d(2, 1, 1), null, ActivationKind.None, new WeightQuantizer(4, true, 1), new DoReFaActQuantizer(4));
        Assert.Throws<NotSupportedException>(() => ConvConverter.Convert("dorefa-out", doReFaOut.Unit, input));
        // A weight quantizer that has seen no forward has no grid to read: refused, not re-derived from W.
        var noGrid = new OneConv(new Conv2d(2, 1, 1), null, ActivationKind.None, new WeightQuantizer(4, true, 1), Calibrated());
        Assert.Throws<InvalidOperationException>(() => ConvConverter.Convert("no-grid", noGrid.Unit, input));
    }

    private static ActQuantizer Calibrated()
    {
        var q = new ActQuantizer(4);
        q.SetQParams(new QParams(1f, 2, 4));
        return q;
    }

    [Fact]
    public void BiasOfTwoToTheThirtyStepsIsRefused()
    {
        // Weights [0, 1.875] → Δ_w = 0.125; Δ_x = 0.25: Δ_w·Δ_x = 2^−5, so b = 2^25 is exactly 2^30 steps — one too many
        // (the kernels need |bias_q| < 2^30); b = 2^25 − 4 is 2^30 − 128 steps and converts.
        var input = new QParams(0.25f, 4, 4);
        var ex = Assert.Throws<OverflowException>(() => ConvConverter.Convert("b", Layer([0f, 1.875f], [33554432f]), input));
        Assert.Contains("bias_q[0] = 1073741824", ex.Message);
        var s = ConvConverter.Convert("b", Layer([0f, 1.875f], [33554428f]), input);
        Assert.Equal((1 << 30) - 128, s.Bias[0]);
    }

    [Fact]
    public void AccumulatorThatCouldOverflowAfterTheLeftShiftIsRefused()
    {
        // 3×3 kernel over 2 channels: K = 18 terms; weights c0 = [−1 … 2] → max|w_q − z_w| = 10 (codes 0..15, z = 5);
        // input z_x = 4 on 4 bits → max|x_q − z_x| = 11: bound = 18·10·11 = 1980. Δ_w = 0.2, Δ_x = 0.25, Δ_y = 2^−20:
        // M = 0.05·2^20 ≈ 52429 = 0.8·2^16 → shift 16, 1980·2^16 ≈ 1.3e8 < 2^31 converts; with Δ_y = 2^−26 the shift is
        // 22 and 1980·2^22 ≈ 8.3e9 ≥ 2^31 is refused.
        var w = new float[18];
        w[0] = -1f;
        w[1] = 2f;
        var input = new QParams(0.25f, 4, 4);
        var ok = ConvConverter.Convert("m", Layer(w, [0f], kernel: 3, output: new QParams(MathF.ScaleB(1f, -20), 2, 4)), input);
        Assert.Equal(16, ok.Shifts[0]);
        Assert.Equal(18, ok.PatchSize);
        var ex = Assert.Throws<OverflowException>(() =>
            ConvConverter.Convert("m", Layer(w, [0f], kernel: 3, output: new QParams(MathF.ScaleB(1f, -26), 2, 4)), input));
        Assert.Contains("up to 1980", ex.Message);
    }

    [Fact]
    public void AddMultipliersByHand()
    {
        // a on (0.2, 5), b on (0.1, 8), y on (0.3, 4): twice_max = 0.4, M_a = ½ = 2^30/2^31, M_b = ¼ = 2^30/2^31 · 2^−1,
        // M_y = 0.4 / (2^20 · 0.3) = (4/3)·2^−20 = 0.6667·2^−19 → shift −19.
        var p = AddConverter.Convert(new QParams(0.2f, 5, 4), new QParams(0.1f, 8, 4), new QParams(0.3f, 4, 4), ActivationKind.Relu);
        Assert.Equal((1 << 30, 0), (p.MultiplierA, p.ShiftA));
        Assert.Equal((1 << 30, -1), (p.MultiplierB, p.ShiftB));
        Assert.Equal(-19, p.OutputShift);
        Assert.InRange(p.OutputMultiplier, 1431655765 - 64, 1431655765 + 64); // (2/3)·2^31, up to the floats' rounding
        Assert.Equal((4, 15), (p.ClampMin, p.ClampMax));
    }

    [Fact]
    public void QuantizedMultiplierSmallFormulas()
    {
        Assert.Equal(0.5, new QuantizedMultiplier(1 << 30, 0).ToDouble());
        Assert.Equal(0.75 * 8, new QuantizedMultiplier(3 << 29, 3).ToDouble());
        // One weight scale for every channel (per-tensor weights): channel 1 reads it too. 0.3 / (0.5·0.25) = 2.4 → 2;
        // −0.7 / 0.125 = −5.6 → −6.
        Assert.Equal([2, -6], QuantizedMultiplier.QuantizeBias([0.3f, -0.7f], [0.5f], 0.25f));
        // −2^31 steps still fits int32 (int.MinValue); −2^31 − 256 (the next float down) does not.
        Assert.Equal([int.MinValue], QuantizedMultiplier.QuantizeBias([-2147483648f], [1f], 1f));
        Assert.Throws<OverflowException>(() => QuantizedMultiplier.QuantizeBias([-2147483904f], [1f], 1f));
        Assert.Throws<OverflowException>(() => QuantizedMultiplier.QuantizeBias([2147483648f], [1f], 1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => QuantizedMultiplier.Quantize(-1));
    }

    [Fact]
    public void WeightCodesCheckTheirParameters()
    {
        // Conv weights are [C_out, …] with parameters on axis 0, one per output channel.
        var w = Tensor.FromArray([0f, 1f, 2f, 3f, 4f, 5f], 2, 3);
        Assert.Throws<ArgumentException>(() => WeightCodes.Quantize(w, new ChannelQParams([1f, 1f], [0, 0], 4, 1)));
        Assert.Throws<ArgumentException>(() => WeightCodes.Quantize(w, new ChannelQParams([1f, 1f, 1f], [0, 0, 0], 4, 0)));
        Assert.Equal([0, 1, 2, 3, 4, 5], WeightCodes.Quantize(w, new ChannelQParams([1f, 1f], [0, 0], 4, 0)));
    }

    [Fact]
    public void GroupedConvPatchIsOneGroupsInputs()
    {
        // 4 inputs in 2 groups, 3×3: each output sums (4 / 2)·3·3 = 18 terms.
        var conv = new Conv2d(4, 2, 3, groups: 2);
        var outQ = new ActQuantizer(4);
        outQ.SetQParams(new QParams(1f, 2, 4));
        var layer = OneConv.Converted(conv, null, ActivationKind.None, new WeightQuantizer(4, true, 2), outQ);
        Assert.Equal(18, ConvConverter.Convert("g", layer.Unit, new QParams(0.25f, 4, 4)).PatchSize);
    }
}
