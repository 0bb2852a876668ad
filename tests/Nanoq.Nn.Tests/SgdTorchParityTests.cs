using Nanoq.Kernels;
using Nanoq.Autograd;
using Nanoq.Nn.Optim;

namespace Nanoq.Tests;

/// <summary>
/// <see cref="Sgd"/> against torch.optim.SGD (tools/gen_rule_fixtures.py → data/torch/sgd.json), both branches of the
/// update: momentum 0 (p ← p − lr·(g + λp), no buffer) and momentum 0.9 (b ← μb + g + λp, the first step b = d). Two
/// parameters: "a" decayed with λ = 0.1, "b" in a group with weight decay 0 (our NoDecay). Three steps with the
/// fixture's gradients; after each, the parameters (and buffers) must match PyTorch's.
/// </summary>
[Collection(SimdCollection.Name)]
public class SgdTorchParityTests
{
    public static TheoryData<float> Momenta => new() { 0f, 0.9f };

    [Theory]
    [MemberData(nameof(Momenta))]
    public void StepsMatchTorchOptimSgd(float momentum)
    {
        var c = Fixture.Cases("sgd.json").Single(e => (float)e.GetProperty("momentum").GetDouble() == momentum);
        int[] shapeB = c.Ints("shape_b");
        var a = new Var(Tensor.FromArray(c.Floats("a"), 7), requiresGrad: true, name: "a");
        var b = new Var(Tensor.FromArray(c.Floats("b"), shapeB), requiresGrad: true, name: "b");
        float lr = (float)c.GetProperty("lr").GetDouble(), wd = (float)c.GetProperty("weight_decay_a").GetDouble();
        Assert.Equal(0.0, c.GetProperty("weight_decay_b").GetDouble());
        var sgd = new Sgd([("a", a), ("b", b)], lr, momentum, wd) { NoDecay = name => name == "b" };
        int step = 0;
        foreach (var s in c.GetProperty("steps").EnumerateArray())
        {
            step++;
            sgd.ZeroGrad();
            a.AccumulateGrad(Tensor.FromArray(s.Floats("grad_a"), 7));
            b.AccumulateGrad(Tensor.FromArray(s.Floats("grad_b"), shapeB));
            sgd.Step();
            // PyTorch's add(…, alpha) may fuse the multiply-add (one rounding where we have two): a few ulps, not bits.
            Assert.True(Fixture.RelErr(a.Value.Span, s.Floats("a")) < 1e-6, $"step {step}: a differs from PyTorch");
            Assert.True(Fixture.RelErr(b.Value.Span, s.Floats("b")) < 1e-6, $"step {step}: b differs from PyTorch");
            if (momentum == 0f)
            {
                Assert.Empty(sgd.State()); // plain SGD keeps no buffer, as PyTorch's momentum_buffer stays None
                continue;
            }
            var state = sgd.State();
            Assert.True(Fixture.RelErr(state["momentum.a"].Span, s.Floats("momentum_a")) < 1e-6, $"step {step}: a's buffer");
            Assert.True(Fixture.RelErr(state["momentum.b"].Span, s.Floats("momentum_b")) < 1e-6, $"step {step}: b's buffer");
        }
        Assert.Equal(3, step);
    }

    [Fact]
    public void WithoutMomentumWeightDecayActsOnTheWeight()
    {
        // p = 2, g = 0.5, λ = 0.1, lr = 0.1, μ = 0: d = g + λp = 0.5 + 0.2 = 0.7, p = 2 − 0.07 = 1.93.
        // (Decaying with the gradient instead, g + λg = 0.55, would give 1.945.)
        var p = new Var(Tensor.FromArray([2f], 1), requiresGrad: true, name: "p");
        var sgd = new Sgd([("p", p)], lr: 0.1f, momentum: 0f, weightDecay: 0.1f);
        p.AccumulateGrad(Tensor.FromArray([0.5f], 1));
        sgd.Step();
        Assert.Equal(1.93f, p.Value.Span[0], 6);
    }

    /// <summary>
    /// The update runs 16 or 8 lanes at a time: for every length 0..70 (all tails) and both branches, three steps give the
    /// scalar formula's bits (d = g + λw; b = d on the first step, else μb + d; w −= lr·b), buffers included.
    /// </summary>
    [Fact]
    public void Vector_update_is_the_scalar_formula_bit_for_bit()
    {
        // At every level the CPU has: scalar, AVX2's 8 lanes, AVX-512's 16.
        foreach (var level in SimdLevels.AllLevels) SimdLevels.With(level, VectorUpdate);
    }

    private static void VectorUpdate()
    {
        var rng = new Rng(23);
        foreach (float momentum in new[] { 0f, 0.9f })
            for (int n = 0; n <= 70; n++)
            {
                var w0 = Enumerable.Range(0, n).Select(_ => rng.Uniform(-2f, 2f)).ToArray();
                var p = new Var(Tensor.FromArray((float[])w0.Clone(), n), requiresGrad: true, name: "p");
                var sgd = new Sgd([("p", p)], lr: 0.03f, momentum, weightDecay: 1e-3f);
                var w = (float[])w0.Clone();
                var b = new float[n];
                for (int step = 0; step < 3; step++)
                {
                    var g = Enumerable.Range(0, n).Select(_ => rng.Uniform(-1f, 1f)).ToArray();
                    sgd.ZeroGrad();
                    p.AccumulateGrad(Tensor.FromArray((float[])g.Clone(), n));
                    sgd.Step();
                    for (int j = 0; j < n; j++)
                    {
                        float d = g[j] + 1e-3f * w[j];
                        if (momentum != 0f) d = b[j] = step == 0 ? d : momentum * b[j] + d;
                        w[j] -= 0.03f * d;
                    }
                    for (int j = 0; j < n; j++)
                        Assert.True(BitConverter.SingleToInt32Bits(w[j]) == BitConverter.SingleToInt32Bits(p.Value.Span[j]),
                            $"μ={momentum} n={n} step {step} element {j}: {p.Value.Span[j]:G9}, expected {w[j]:G9}");
                    if (momentum != 0f && n > 0)
                        Assert.Equal(b, sgd.State()["momentum.p"].Span.ToArray());
                }
            }
    }
}
