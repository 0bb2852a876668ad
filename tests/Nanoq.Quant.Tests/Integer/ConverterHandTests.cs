using Nanoq.Kernels.Integer;
using Nanoq.Nn.Taps;
using Nanoq.Quant;
using Nanoq.Quant.Convert;

namespace Nanoq.Tests.Integer;

/// <summary>The offline conversion's small formulas, by hand.</summary>
public class ConverterHandTests
{
    [Fact]
    public void ActivationsBecomeClamps()
    {
        // Δ = 0.5, z = 3 on 4 bits: reals [−1.5, 6]. ReLU: lo = z = 3. ReLU6: 3 + round(6 / 0.5) = 15 = 2^4 − 1.
        var q = new QParams(0.5f, 3, 4);
        Assert.Equal((0, 15), ActivationClamp.For(ActivationKind.None, q));
        Assert.Equal((3, 15), ActivationClamp.For(ActivationKind.Relu, q));
        Assert.Equal((3, 15), ActivationClamp.For(ActivationKind.Relu6, q));
        // Δ = 1, z = 2: real 6 is code 8, so ReLU6 clamps at 8. Δ = 0.75: 6 / 0.75 = 8 → 10.
        Assert.Equal((2, 8), ActivationClamp.For(ActivationKind.Relu6, new QParams(1f, 2, 4)));
        Assert.Equal((2, 10), ActivationClamp.For(ActivationKind.Relu6, new QParams(0.75f, 2, 4)));
    }

    [Fact]
    public void AnAddWithReluClampsAtTheOutputZeroPoint()
    {
        // a on (0.2, 5), b on (0.1, 8), y on (0.3, 4): twice_max = 0.4, M_a = ½, M_b = ¼, M_y = 0.4 / (2^20 · 0.3).
        var p = AddConverter.Convert(new QParams(0.2f, 5, 4), new QParams(0.1f, 8, 4), new QParams(0.3f, 4, 4), ActivationKind.Relu);
        Assert.Equal((4, 15), (p.ClampMin, p.ClampMax));
        Assert.Equal((1 << 30, 0), (p.MultiplierA, p.ShiftA));   // ½ = 2^30 / 2^31
        Assert.Equal((1 << 30, -1), (p.MultiplierB, p.ShiftB));  // ¼
        // a = 11 → +1.2, b = 2 → −0.6: sum 0.6 → 4 + 2 = 6. a = 5 (0), b = 0 (−0.8): −0.8 → 4 − 2.67 → clamped to z = 4.
        Assert.Equal(6, QuantizedAdd.Apply(11, 2, p));
        Assert.Equal(4, QuantizedAdd.Apply(5, 0, p));
    }

    [Fact]
    public void WeightCodesAreTheFakeQuantCodes()
    {
        // Channel 0: [−1, 0, 2] on 4 bits: Δ = 3/15 = 0.2, z = 5 → codes 0, 5, 15. Channel 1: [0, 0.4, 1]: Δ = 1/15, z = 0 → 0, 6, 15.
        var w = Tensor.FromArray([-1f, 0f, 2f, 0f, 0.4f, 1f], 2, 3, 1, 1);
        var q = ChannelQParams.FromTensor(w, 4);
        Assert.Equal([0, 5, 15, 0, 6, 15], WeightCodes.Quantize(w, q));
        Assert.Equal([5, 0], q.ZeroPoints.ToArray());
    }
}
