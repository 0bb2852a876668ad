using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Nanoq.Autograd;
using Nanoq.Quant;

namespace Nanoq.Tests;

/// <summary>Batch-norm folding (eq. 13–14, eq. 11–12): gradients against central differences, and fold = conv → BN.</summary>
public class BnFoldTests
{
    private static void AssertGrad(Func<Var[], Var> f, params Tensor[] inputs)
    {
        var r = GradCheck.Check(f, inputs);
        Assert.True(r.Ok, r.Detail);
    }

    [Fact]
    public void Folded_weight_gradients_for_W_gamma_and_variance() =>
        AssertGrad(v => QFn.FoldBnWeight(v[0], v[1], v[2], 1e-5f),
            TestData.Normal(1, 4, 3, 3, 3), TestData.Uniform(2, 0.5f, 1.5f, 4), TestData.Uniform(3, 0.5f, 2f, 4));

    /// <summary>
    /// ∂γ and ∂σ² of the folded weight, bit for bit, against the formula with each channel's Σ g·W summed in double in
    /// index order, one channel at a time: the backward sums four channels side by side and runs of channels on the
    /// kernel threads (a layer large enough to split, 67 channels: a last run of three).
    /// </summary>
    [Fact]
    public void Folded_weight_gamma_and_variance_gradients_are_the_sequential_sums()
    {
        int cout = 67, inner = 64 * 9;
        var w = TestData.Normal(21, cout, 64, 3, 3);
        var gamma = TestData.Uniform(22, 0.5f, 1.5f, cout);
        var variance = TestData.Uniform(23, 0.5f, 2f, cout);
        var seed = TestData.Normal(24, cout, 64, 3, 3);
        var vg = new Var(gamma, requiresGrad: true);
        var vv = new Var(variance, requiresGrad: true);
        var y = QFn.FoldBnWeight(new Var(w, requiresGrad: true), vg, vv, 1e-5f);
        y.Backward(seed);
        var rs = Nanoq.Quant.BnFold.InvStd(variance.Span, 1e-5f);
        for (int c = 0; c < cout; c++)
        {
            double sc = 0;
            for (int i = 0; i < inner; i++) sc += (double)seed.Span[c * inner + i] * w.Span[c * inner + i];
            Assert.Equal((float)(sc * rs[c]), vg.Grad!.Span[c]);
            Assert.Equal((float)(-0.5 * sc * gamma.Span[c] * rs[c] * rs[c] * rs[c]), vv.Grad!.Span[c]);
        }
    }

    [Fact]
    public void Folded_bias_gradients_for_b_gamma_beta_mean_and_variance() =>
        AssertGrad(v => QFn.FoldBnBias(v[0], v[1], v[2], v[3], v[4], 1e-5f),
            TestData.Normal(1, 5), TestData.Uniform(2, 0.5f, 1.5f, 5), TestData.Normal(3, 5), TestData.Normal(4, 5), TestData.Uniform(5, 0.5f, 2f, 5));

    [Fact]
    public void Folded_bias_without_conv_bias() =>
        AssertGrad(v => QFn.FoldBnBias(null, v[0], v[1], v[2], v[3], 1e-3f),
            TestData.Uniform(2, 0.5f, 1.5f, 3), TestData.Normal(3, 3), TestData.Normal(4, 3), TestData.Uniform(5, 0.5f, 2f, 3));

    [Fact]
    public void Conv_with_folded_frozen_BN_gradients_for_W_b_gamma_beta()
    {
        // The fold in place: y = conv(x, W·γ/√(σ²+ε), γ(b − μ)/√(σ²+ε) + β), μ and σ² constants (F).
        var mean = new Var(TestData.Normal(9, 3));
        var variance = new Var(TestData.Uniform(10, 0.5f, 2f, 3));
        var x = TestData.Normal(11, 2, 2, 5, 5);
        AssertGrad(v => Fn.Conv2d(new Var(x), QFn.FoldBnWeight(v[0], v[2], variance, 1e-5f),
                                  QFn.FoldBnBias(v[1], v[2], v[3], mean, variance, 1e-5f), 1, 1),
            TestData.Normal(1, 3, 2, 3, 3), TestData.Normal(2, 3), TestData.Uniform(3, 0.5f, 1.5f, 3), TestData.Normal(4, 3));
    }

    [Fact]
    public void Batch_moments_gradient() =>
        AssertGrad(v => { var (m, s) = QFn.BatchMoments(v[0]); return Fn.Add(m, Fn.Scale(s, 0.7f)); }, TestData.Normal(1, 3, 2, 4, 3));

    [Fact]
    public void Batch_moments_are_the_biased_per_channel_statistics()
    {
        var x = TestData.Normal(2, 4, 3, 5, 2);
        var (m, v) = QFn.BatchMoments(new Var(x));
        for (int c = 0; c < 3; c++)
        {
            var vals = new List<double>();
            for (int n = 0; n < 4; n++) for (int i = 0; i < 10; i++) vals.Add(x.Span[(n * 3 + c) * 10 + i]);
            double mean = vals.Average(), var = vals.Select(t => (t - mean) * (t - mean)).Average();
            Assert.Equal(mean, m.Value.Span[c], 5);
            Assert.Equal(var, v.Value.Span[c], 5);
        }
    }

    [Property(MaxTest = 40)]
    public Property Folded_conv_equals_conv_then_batch_norm_in_eval() =>
        Prop.ForAll(Gen.Choose(0, int.MaxValue).ToArbitrary(), Gen.Elements(true, false).ToArbitrary(), Gen.Choose(1, 3).ToArbitrary(), (seed, withBias, k) =>
        {
            var rng = new Rng((ulong)seed);
            int cin = rng.NextInt(1, 5), cout = rng.NextInt(1, 6), groups = cin == cout && rng.Bernoulli(0.3) ? cin : 1;
            var x = new Var(rng.Normal(new Shape(2, cin, 6, 5)));
            var w = new Var(rng.Normal(new Shape(cout, cin / groups, k, k)));
            var b = withBias ? new Var(rng.Normal(new Shape(cout))) : null;
            var gamma = new Var(rng.Uniform(new Shape(cout), -1.5f, 1.5f));
            var beta = new Var(rng.Normal(new Shape(cout)));
            var mean = rng.Normal(new Shape(cout));
            var variance = rng.Uniform(new Shape(cout), 0.01f, 3f);
            const float eps = 1e-5f;
            int pad = k / 2;
            var reference = Fn.BatchNorm2d(Fn.Conv2d(x, w, b, 1, pad, 1, groups), gamma, beta, mean, variance, useBatchStats: false, 0.1f, eps);
            var folded = Fn.Conv2d(x, QFn.FoldBnWeight(w, gamma, new Var(variance), eps),
                                   QFn.FoldBnBias(b, gamma, beta, new Var(mean), new Var(variance), eps), 1, pad, 1, groups);
            double scale = 1e-6 + reference.Value.ToArray().Max(Math.Abs);
            return reference.Value.ToArray().Zip(folded.Value.ToArray()).All(p => Math.Abs(p.First - p.Second) <= 1e-5 * scale + 1e-5);
        });

    [Fact]
    public void Shape_mismatches_and_bad_variances_throw()
    {
        Assert.Throws<ArgumentException>(() => QFn.FoldBnWeight(new Var(Tensor.Zeros(4, 2)), new Var(Tensor.Ones(3)), new Var(Tensor.Ones(4)), 1e-5f));
        Assert.Throws<ArgumentException>(() => QFn.FoldBnWeight(new Var(Tensor.Zeros(2, 2)), new Var(Tensor.Ones(2)), new Var(Tensor.Full(new Shape(2), -1f)), 1e-5f));
        Assert.Throws<ArgumentException>(() => QFn.FoldBnBias(new Var(Tensor.Zeros(3)), new Var(Tensor.Ones(2)), new Var(Tensor.Ones(2)), new Var(Tensor.Ones(2)), new Var(Tensor.Ones(2)), 1e-5f));
    }
}
