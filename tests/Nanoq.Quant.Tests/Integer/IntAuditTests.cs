using Nanoq.Kernels;
using Nanoq.Kernels.Integer;
using Nanoq.Quant.Convert;
using Nanoq.Quant.Integer;

namespace Nanoq.Tests.Integer;

/// <summary>The audit traces end where the kernels do: the traced code equals the kernel's output, everywhere checked.</summary>
public class IntAuditTests
{
    [Fact]
    public void ConvTrace_EqualsKernelOutput()
    {
        var rng = new Rng(51);
        var g = new Conv2dGeometry(2, 10, 9, 11, 7, 3, 2, 1);
        var x = Enumerable.Range(0, g.InputLength).Select(_ => (byte)rng.NextInt(16)).ToArray();
        var w = Enumerable.Range(0, g.WeightLength).Select(_ => (byte)rng.NextInt(16)).ToArray();
        var zw = Enumerable.Range(0, 7).Select(_ => rng.NextInt(16)).ToArray();
        var bias = Enumerable.Range(0, 7).Select(_ => rng.NextInt(-300, 300)).ToArray();
        var mult = QuantizedMultiplier.ForConv(Enumerable.Range(0, 7).Select(_ => rng.Uniform(0.01f, 0.05f)).ToArray(), 0.1f, 0.3f);
        var rq = new Requantization(mult.Select(m => m.Multiplier).ToArray(), mult.Select(m => m.Shift).ToArray(), 6, 6, 15);
        var weights = IntConv2dWeights.Pack(7, 10, 3, 3, 1, w, zw, 4, 4);
        var y = new byte[g.OutputLength];
        IntConv2d.Forward(g, x, 3, weights, bias, rq, y);
        for (int n = 0; n < g.Batch; n++)
            for (int o = 0; o < g.OutChannels; o++)
                for (int oy = 0; oy < g.OutHeight; oy++)
                    for (int ox = 0; ox < g.OutWidth; ox++)
                    {
                        var t = IntAudit.Conv(g, x, 3, weights, bias, rq, n, o, oy, ox);
                        Assert.Equal(y[((n * g.OutChannels + o) * g.OutHeight + oy) * g.OutWidth + ox], t.Output);
                    }
        var corner = IntAudit.Conv(g, x, 3, weights, bias, rq, 1, 2, 0, 0);
        Assert.Equal(5 * 10, corner.PaddedTerms); // the window's top row and left column (5 taps) read padding, in all 10 channels
        string text = corner.ToString();
        Assert.Contains("Σ (w − z_w)(x − z_x)", text);
        Assert.Contains("SaturatingRoundingDoublingHighMul", text);
        Assert.Contains($"y_q = {corner.Output}", text);
    }

    [Fact]
    public void ConvTrace_SingleRounding_EqualsKernelOutput()
    {
        var rng = new Rng(53);
        var g = new Conv2dGeometry(1, 5, 7, 6, 3, 3, 1, 1);
        var x = Enumerable.Range(0, g.InputLength).Select(_ => (byte)rng.NextInt(16)).ToArray();
        var w = Enumerable.Range(0, g.WeightLength).Select(_ => (byte)rng.NextInt(16)).ToArray();
        var rq = new Requantization([1 << 30, 1518500250, 1234567890], [-3, -4, -2], 2, 0, 15, RequantRounding.Single);
        var weights = IntConv2dWeights.Pack(3, 5, 3, 3, 1, w, [7, 8, 9], 4, 4);
        var y = new byte[g.OutputLength];
        IntConv2d.Forward(g, x, 4, weights, [], rq, y);
        for (int o = 0; o < 3; o++)
            for (int oy = 0; oy < 7; oy++)
                for (int ox = 0; ox < 6; ox++)
                    Assert.Equal(y[(o * 7 + oy) * 6 + ox], IntAudit.Conv(g, x, 4, weights, [], rq, 0, o, oy, ox).Output);
        Assert.Contains("single rounding", IntAudit.Conv(g, x, 4, weights, [], rq, 0, 1, 3, 3).ToString());
    }

    [Fact]
    public void AddTrace_EqualsKernelOutput()
    {
        var rng = new Rng(52);
        var p = QuantizedMultiplier.ForAdd(0.07f, 5, 0.03f, 9, 0.11f, 4, 4, 15);
        var a = Enumerable.Range(0, 256).Select(_ => (byte)rng.NextInt(16)).ToArray();
        var b = Enumerable.Range(0, 256).Select(_ => (byte)rng.NextInt(16)).ToArray();
        var y = new byte[256];
        QuantizedAdd.Forward(a, b, p, y);
        for (int i = 0; i < 256; i++) Assert.Equal(y[i], IntAudit.Add(a[i], b[i], p).Output);
        Assert.Contains("a' + b'", IntAudit.Add(a[0], b[0], p).ToString());
    }

    [Fact]
    public void FixedPointTrace_Saturation()
    {
        var t = FixedPointTrace.Of(int.MinValue, int.MaxValue, 0);
        Assert.Equal(FixedPoint.MultiplyByQuantizedMultiplier(int.MinValue, int.MaxValue, 0), t.Result);
    }
}
