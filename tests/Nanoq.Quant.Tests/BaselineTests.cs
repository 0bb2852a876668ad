using Nanoq.Autograd;
using Nanoq.Quant;

namespace Nanoq.Tests;

/// <summary>The Table 5 baselines' quantizers: DoReFa-Net weights/activations, XNOR-Net weights and sign activations.</summary>
public class BaselineTests
{
    [Fact]
    public void DoReFa_weights_lie_on_2_to_the_k_levels_scaled_by_max_abs_W()
    {
        var w = new Var(TestData.Normal(1, 6, 4, 3, 3), requiresGrad: true);
        var y = QFn.DoReFaWeight(w, 3);
        float s = w.Value.ToArray().Max(MathF.Abs);
        var levels = y.Value.ToArray().Distinct().ToArray();
        Assert.True(levels.Length <= 8);
        foreach (float v in levels)
        {
            double q = (v / s + 1) * 7 / 2; // Ŵ = s(2q/7 − 1) → q = (Ŵ/s + 1)·7/2
            Assert.Equal(Math.Round(q), q, 4);
            Assert.InRange(q, -1e-4, 7 + 1e-4);
        }
        int iMax = Array.IndexOf(w.Value.ToArray(), w.Value.ToArray().MaxBy(MathF.Abs));
        Assert.Equal(w.Value.Span[iMax], y.Value.Span[iMax], 5); // the largest weight maps to itself
    }

    [Fact]
    public void DoReFa_weight_gradient_is_the_straight_through_tanh_derivative()
    {
        var w = new Var(TestData.Normal(2, 3, 5), requiresGrad: true);
        var g = TestData.Normal(3, 3, 5);
        QFn.DoReFaWeight(w, 4).Backward(g);
        var wv = w.Value.ToArray();
        float s = wv.Max(MathF.Abs), m = wv.Max(v => MathF.Abs(MathF.Tanh(v)));
        for (int i = 0; i < wv.Length; i++)
        {
            float t = MathF.Tanh(wv[i]);
            Assert.Equal(g.Span[i] * s * (1 - t * t) / m, w.Grad!.Span[i], 5);
        }
    }

    [Fact]
    public void DoReFa_activations_clip_to_0_1_then_quantize()
    {
        // 4 bits: x̂ ≈ round(15·clip(x, 0, 1)) / 15: −1 → 0, 0.2 → 3/15, 0.53 → round(7.95) = 8 → 8/15, 2 → 1.
        // The exact tie 0.5 goes through the fake-quant arithmetic: 1/Δ = fl(1/fl(1/15)) = 14.999999, 0.5 · that
        // = 7.4999995 → 7, where DoReFa's round(15 · 0.5) = round(7.5) gives 8 — the one-step difference at exact ties.
        var x = new Var(Tensor.FromArray([-1f, 0.2f, 0.53f, 2f, 0.5f]), requiresGrad: true);
        var y = QFn.DoReFaActivation(x, 4);
        var q = QFn.DoReFaActivationQParams(4);
        Assert.Equal([0f, 3 * q.Scale, 8 * q.Scale, 15 * q.Scale, 7 * q.Scale], y.Value.ToArray());
        Assert.Equal(1f, 15 * q.Scale, 6);
        y.Backward(Tensor.Ones(5));
        Assert.Equal([0f, 1f, 1f, 0f, 1f], x.Grad!.ToArray());
    }

    [Fact]
    public void Xnor_weights_are_alpha_times_sign_with_alpha_the_mean_magnitude_per_channel()
    {
        // Channel 0: [1, −3, 0, 2] → α = 6/4 = 1.5 → [1.5, −1.5, 1.5, 1.5] (sign(0) = +1). Channel 1: [−0.5, 0.5, 0.5, −0.5] → α = 0.5.
        var w = new Var(Tensor.FromArray([1f, -3f, 0f, 2f, -0.5f, 0.5f, 0.5f, -0.5f], 2, 4), requiresGrad: true);
        var y = QFn.XnorWeight(w);
        Assert.Equal([1.5f, -1.5f, 1.5f, 1.5f, -0.5f, 0.5f, 0.5f, -0.5f], y.Value.ToArray());
        // ∂C/∂W = g (1/n + α·1_{|W| ≤ 1}), n = 4: channel 0: |W| ≤ 1 for 1 and 0 → 0.25 + 1.5; else 0.25.
        y.Backward(Tensor.Ones(2, 4));
        Assert.Equal([1.75f, 0.25f, 1.75f, 0.25f, 0.75f, 0.75f, 0.75f, 0.75f], w.Grad!.ToArray());
    }

    [Fact]
    public void Sign_activation_and_its_hard_tanh_estimator()
    {
        var x = new Var(Tensor.FromArray([-2f, -0.5f, 0f, 0.3f, 1f, 1.5f]), requiresGrad: true);
        var y = QFn.SignSte(x);
        Assert.Equal([-1f, -1f, 1f, 1f, 1f, 1f], y.Value.ToArray());
        y.Backward(Tensor.FromArray([2f, 2f, 2f, 2f, 2f, 2f]));
        Assert.Equal([0f, 2f, 2f, 2f, 2f, 0f], x.Grad!.ToArray());
    }
}
