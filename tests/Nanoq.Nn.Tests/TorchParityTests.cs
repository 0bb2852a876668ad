using Nanoq.Autograd;
using Nanoq.Nn;
using Nanoq.Nn.Backbones;
using Nanoq.Nn.Checkpoints;

namespace Nanoq.Tests;

/// <summary>Reference values from PyTorch 1.13 / torchvision 0.14 (tools/gen_torch_fixtures.py).</summary>
public class TorchParityTests
{
    [Fact]
    public void Conv2dForwardAndGradientsMatchPyTorch()
    {
        foreach (var c in Fixture.Cases("conv2d.json"))
        {
            int n = c.Int("n"), cin = c.Int("cin"), h = c.Int("h"), w = c.Int("w"), cout = c.Int("cout"), k = c.Int("k"), g = c.Int("groups");
            bool hasBias = c.GetProperty("bias").ValueKind != System.Text.Json.JsonValueKind.Null;
            var x = new Var(Tensor.FromArray(c.Floats("x"), n, cin, h, w), requiresGrad: true);
            var wt = new Var(Tensor.FromArray(c.Floats("weight"), cout, cin / g, k, k), requiresGrad: true);
            var b = hasBias ? new Var(Tensor.FromArray(c.Floats("bias"), cout), requiresGrad: true) : null;
            var y = Fn.Conv2d(x, wt, b, c.Int("stride"), c.Int("pad"), c.Int("dilation"), g);
            Assert.Equal(c.Ints("y_shape"), y.Shape.ToArray());
            Assert.True(Fixture.RelErr(y.Value.Span, c.Floats("y")) < 1e-5, $"conv forward {c}");
            y.Backward(Tensor.FromArray(c.Floats("gy"), y.Shape.ToArray()));
            Assert.True(Fixture.RelErr(x.Grad!.Span, c.Floats("gx")) < 1e-5, "conv input gradient");
            Assert.True(Fixture.RelErr(wt.Grad!.Span, c.Floats("gw")) < 1e-5, "conv weight gradient");
            if (b is not null) Assert.True(Fixture.RelErr(b.Grad!.Span, c.Floats("gb")) < 1e-5, "conv bias gradient");
        }
    }

    [Fact]
    public void BatchNormTrainingForwardGradientsAndRunningStatsMatchPyTorch()
    {
        foreach (var c in Fixture.Cases("batchnorm.json"))
        {
            int n = c.Int("n"), ch = c.Int("c"), h = c.Int("h"), w = c.Int("w");
            var x = new Var(Tensor.FromArray(c.Floats("x"), n, ch, h, w), requiresGrad: true);
            var gamma = new Var(Tensor.FromArray(c.Floats("gamma"), ch), requiresGrad: true);
            var beta = new Var(Tensor.FromArray(c.Floats("beta"), ch), requiresGrad: true);
            var rm = Tensor.FromArray(c.Floats("running_mean_before"), ch);
            var rv = Tensor.FromArray(c.Floats("running_var_before"), ch);
            var y = Fn.BatchNorm2d(x, gamma, beta, rm, rv, useBatchStats: true, 0.1f, 1e-5f);
            Assert.True(Fixture.RelErr(y.Value.Span, c.Floats("y")) < 1e-5, "bn forward");
            Assert.True(Fixture.RelErr(rm.Span, c.Floats("running_mean_after")) < 1e-5, "running mean");
            Assert.True(Fixture.RelErr(rv.Span, c.Floats("running_var_after")) < 1e-5, "running var (unbiased)");
            y.Backward(Tensor.FromArray(c.Floats("gy"), n, ch, h, w));
            Assert.True(Fixture.RelErr(x.Grad!.Span, c.Floats("gx")) < 1e-4, "bn input gradient");
            Assert.True(Fixture.RelErr(gamma.Grad!.Span, c.Floats("ggamma")) < 1e-5, "bn gamma gradient");
            Assert.True(Fixture.RelErr(beta.Grad!.Span, c.Floats("gbeta")) < 1e-5, "bn beta gradient");
        }
    }

    [Theory]
    [InlineData("resnet18")]
    [InlineData("mobilenet_v2")]
    public void TorchvisionModelLoadedFromSafetensorsMatchesItsOutput(string name)
    {
        Layer model = name == "resnet18" ? ResNet.ResNet18() : new MobileNetV2();
        var state = Safetensors.Load(Fixture.PathOf(name + ".safetensors"));
        // Same names, one to one (num_batches_tracked aside).
        var expected = state.Keys.Where(k => !k.EndsWith("num_batches_tracked", StringComparison.Ordinal)).OrderBy(k => k, StringComparer.Ordinal);
        Assert.Equal(expected, model.StateDict().Keys.OrderBy(k => k, StringComparer.Ordinal));
        model.LoadStateDict(state);
        model.Eval();
        var f = Fixture.Json(name + ".json");
        var x = new Var(Tensor.FromArray(f.Floats("input"), f.Ints("input_shape")));
        Var y;
        using (GradMode.NoGrad()) y = model.Forward(x);
        Assert.Equal(f.Ints("output_shape"), y.Shape.ToArray());
        double err = Fixture.RelErr(y.Value.Span, f.Floats("output"));
        Assert.True(err < 1e-4, $"{name}: relative error {err:E2}");
    }
}
