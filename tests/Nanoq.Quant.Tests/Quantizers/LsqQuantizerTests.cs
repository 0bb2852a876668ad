using Nanoq.Autograd;
using Nanoq.Quant;
using Nanoq.Quant.Quantizers;

namespace Nanoq.Tests.Quantizers;

/// <summary>LSQ's learned step: its gradient by hand, against central differences of LSQ's straight-through surrogate, and its life as a module.</summary>
public class LsqQuantizerTests
{
    [Fact]
    public void The_step_gradient_matches_a_hand_computation()
    {
        // Δ = 0.5, z = 2, k = 2 (Q = 3), x = [0.26, −0.5, 1.2, 3.0], ∂L/∂x̂ = [1, 2, 3, 4]:
        //   0.26: u = 0.52, round 1, t = 3 (inside) → x̂ = 0.5,  ∂x̂/∂Δ = 1 − 0.52 = 0.48, mask 1
        //  −0.5:  u = −1,   round −1, t = 1 (inside) → x̂ = −0.5, ∂x̂/∂Δ = 0,             mask 1
        //   1.2:  u = 2.4,  t = 4 > Q (clamped)      → x̂ = 0.5,  ∂x̂/∂Δ = Q − z = 1,     mask 0
        //   3.0:  u = 6,    t = 8 > Q                → x̂ = 0.5,  ∂x̂/∂Δ = 1,             mask 0
        // g = 1/√(N·Q) with N = 4 elements a sample: 1/√12 = 0.288675; ∂L/∂Δ = g·(0.48 + 0 + 3 + 4) = 2.159290.
        var x = new Var(Tensor.FromArray([0.26f, -0.5f, 1.2f, 3.0f], 1, 4), requiresGrad: true);
        var step = new Var(Tensor.FromArray([0.5f], 1), requiresGrad: true);
        var y = QFn.LsqFakeQuantize(x, step, [2], 2, perChannel: false);
        Assert.Equal([0.5f, -0.5f, 0.5f, 0.5f], y.Value.ToArray());
        y.Backward(Tensor.FromArray([1f, 2f, 3f, 4f], 1, 4));
        Assert.Equal([1f, 2f, 0f, 0f], x.Grad!.ToArray());
        Assert.Equal(7.48 / Math.Sqrt(12), step.Grad!.Span[0], 5);
    }

    [Theory]
    [InlineData(false, 4)]
    [InlineData(true, 4)]
    [InlineData(true, 8)]
    public void The_gradients_are_the_exact_derivatives_of_the_straight_through_surrogate(bool perChannel, int bits)
    {
        // LSQ's surrogate: x̂ = mask ⊙ (x + Δ·c) + (1 − mask) ⊙ Δ·(q − z), with c = round(x/Δ) − x/Δ and the mask frozen
        // at the point (PyTorch's round_pass trick). Its gradient is LSQ's (before the scale g); GradCheck confirms the
        // surrogate's analytic gradient by central differences, and the LSQ op must equal it times g.
        var rng = new Rng((ulong)(bits * 10 + (perChannel ? 1 : 0)));
        int channels = perChannel ? 3 : 1, per = 12;
        var xs = rng.Normal(new Shape(channels, per), 0f, 1.5f);
        var steps = Tensor.FromArray(Enumerable.Range(0, channels).Select(c => 0.2f + 0.1f * c).ToArray(), channels);
        int[] z = Enumerable.Range(0, channels).Select(c => 1 + c).ToArray();
        int qmax = (1 << bits) - 1;
        // Keep every x away from rounding ties and the clamp edges so the frozen parts are constant under ±eps.
        for (int c = 0; c < channels; c++)
            for (int i = 0; i < per; i++)
            {
                float u = xs[c, i] / steps.Span[c];
                if (Math.Abs(u - Math.Floor(u) - 0.5) < 0.05) xs.Span[c * per + i] += 0.1f * steps.Span[c];
            }
        var cst = new float[channels * per];
        var mask = new float[channels * per];
        var clamped = new float[channels * per];
        for (int c = 0; c < channels; c++)
            for (int i = 0; i < per; i++)
            {
                float d = steps.Span[c], u = xs[c, i] * (1f / d), r = MathF.Round(u), t = r + z[c];
                int k = c * per + i;
                mask[k] = t >= 0 && t <= qmax ? 1f : 0f;
                cst[k] = r - u;
                clamped[k] = (t < 0 ? 0 : t > qmax ? qmax : t) - z[c];
            }
        Var Surrogate(Var[] v)
        {
            var m = new Var(Tensor.FromArray(mask, channels, per));
            var inside = Fn.Add(v[0], Fn.Mul(Fn.Reshape(v[1], channels, 1), new Var(Tensor.FromArray(cst, channels, per))));
            var outside = Fn.Mul(Fn.Reshape(v[1], channels, 1), new Var(Tensor.FromArray(clamped, channels, per)));
            var notM = new Var(Tensor.FromArray(mask.Select(q => 1f - q).ToArray(), channels, per));
            return Fn.Add(Fn.Mul(m, inside), Fn.Mul(notM, outside));
        }
        var check = GradCheck.Check(Surrogate, [xs.Clone(), steps.Clone()], eps: 1e-3, atol: 1e-3, rtol: 1e-2);
        Assert.True(check.Ok, check.Detail);

        var dy = rng.Normal(new Shape(channels, per));
        var sx = new Var(xs.Clone(), requiresGrad: true);
        var ss = new Var(steps.Clone(), requiresGrad: true);
        Surrogate([sx, ss]).Backward(dy);
        var lx = new Var(xs.Clone(), requiresGrad: true);
        var ls = new Var(steps.Clone(), requiresGrad: true);
        QFn.LsqFakeQuantize(lx, ls, z, bits, perChannel).Backward(dy);
        int n = per; // elements under one Δ in one sample: a channel's weights, or x.Size / batch for x [1, per]
        float g = 1f / MathF.Sqrt((float)n * qmax);
        Assert.Equal(sx.Grad!.ToArray(), lx.Grad!.ToArray());
        for (int c = 0; c < channels; c++) Assert.Equal(ss.Grad!.Span[c] * g, ls.Grad!.Span[c], 4);
    }

    [Fact]
    public void Weights_initialize_from_their_min_max_grid_and_the_step_is_a_parameter_that_restores()
    {
        var q = new LsqQuantizer(4, QuantizerRole.Weight, perChannel: true, channels: 2);
        Assert.Contains(q.NamedParameters(), p => p.Name == "scale");
        var w = Tensor.FromArray([-1f, 0f, 2f, 0f, 0.4f, 1f], 2, 3);
        var y = q.Forward(new Var(w));
        var grid = ChannelQParams.FromTensor(w, 4, 0);
        Assert.Equal(grid.Scales.ToArray(), q.Scale.Value.ToArray());
        Assert.Equal(FakeQuant.Forward(w, grid).ToArray(), y.Value.ToArray()); // starts exactly where FQN's grid is
        var copy = new LsqQuantizer(4, QuantizerRole.Weight, perChannel: true, channels: 2);
        copy.LoadStateDict(q.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.Clone()));
        Assert.True(copy.IsInitialized);
        Assert.Equal(q.Describe().Scales, copy.Describe().Scales);
        Assert.Equal(q.Describe().ZeroPoints, copy.Describe().ZeroPoints);
        Assert.True(copy.ConvertsToInteger);
    }

    [Fact]
    public void Activations_start_from_percentile_calibration()
    {
        var q = new LsqQuantizer(4, QuantizerRole.Activation, perChannel: false, channels: 1, new Quant.Observers.MinMaxObserver());
        var x = new Var(Tensor.FromArray([-1f, 0.5f, 2f], 1, 3));
        Assert.Same(x, q.Forward(x)); // before calibration: the identity
        q.BeginCalibration();
        q.Forward(x);
        q.EndCalibration();
        Assert.Equal(QParams.FromRange(-1f, 2f, 4).Scale, q.Scale.Value.Span[0]);
        Assert.Equal(QParams.FromRange(-1f, 2f, 4).ZeroPoint, q.Describe().ZeroPoints[0]);
    }
}
