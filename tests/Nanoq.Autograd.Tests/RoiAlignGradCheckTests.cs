using Nanoq.Autograd;

namespace Nanoq.Tests;

/// <summary>Fn.RoiAlign (and the RPN's BCE-with-logits) against central differences (DESIGN.md §3).</summary>
public class RoiAlignGradCheckTests
{
    private static void AssertGrad(Func<Var[], Var> f, params Tensor[] inputs)
    {
        var r = GradCheck.Check(f, inputs, maxChecksPerInput: 400);
        Assert.True(r.Ok, r.Detail);
    }

    // RoIs inside, partly outside, inverted, on the border and wholly outside a 7x9 map (in image pixels at scale 0.5).
    private static readonly float[] Rois =
    [
        0, 1.3f, 2.2f, 11.7f, 9.1f,
        1, -4f, -3f, 6f, 5f,
        1, 12f, 10f, 3f, 4f,
        0, 16f, 12f, 18f, 14f,
        1, 30f, 30f, 40f, 40f,
    ];

    [Theory]
    [InlineData(2, false)]
    [InlineData(0, false)]
    [InlineData(-1, true)]
    [InlineData(3, true)]
    public void RoiAlign(int samplingRatio, bool aligned)
    {
        var rois = Tensor.FromArray(Rois, 5, 5);
        AssertGrad(v => Fn.RoiAlign(v[0], rois, 3, 2, 0.5f, samplingRatio, aligned), TestData.Normal(1, 2, 3, 7, 9));
    }

    [Fact]
    public void RoiAlign_of_no_rois_has_zero_gradient()
    {
        var x = new Var(TestData.Normal(1, 1, 2, 3, 3), requiresGrad: true);
        var y = Fn.RoiAlign(x, Tensor.FromArray([], 0, 5), 2, 2);
        Assert.Equal(new Shape(0, 2, 2, 2), y.Shape);
        y.Backward(Tensor.FromArray([], 0, 2, 2, 2));
        Assert.All(x.Grad!.ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void BinaryCrossEntropyWithLogits()
    {
        var t = Tensor.FromArray([0f, 1f, 1f, 0f, 0.3f, 1f, 0f], 7);
        AssertGrad(v => Fn.BinaryCrossEntropyWithLogits(v[0], t), TestData.Normal(1, 7));
        AssertGrad(v => Fn.BinaryCrossEntropyWithLogits(v[0], t, Reduction.Sum), TestData.Normal(2, 7));
    }

    /// <summary>Hand values: x = 0 gives log 2 whatever t; x = 100, t = 1 gives ≈ 0 without overflow; x = −100, t = 1 gives 100.</summary>
    [Fact]
    public void BinaryCrossEntropyWithLogits_values()
    {
        var x = new Var(Tensor.FromArray([0f, 0f, 100f, -100f], 4));
        var l = Fn.BinaryCrossEntropyWithLogits(x, Tensor.FromArray([0f, 1f, 1f, 1f], 4), Reduction.None).Value.ToArray();
        Assert.Equal(MathF.Log(2f), l[0], 6);
        Assert.Equal(MathF.Log(2f), l[1], 6);
        Assert.Equal(0f, l[2], 6);
        Assert.Equal(100f, l[3], 4);
    }
}
