using Nanoq.Autograd;
using Nanoq.Nn.Taps;
using Nanoq.Quant;
using Nanoq.Quant.Quantizers;
using Nanoq.Quant.Observers;
using Nanoq.Quant.Taps;

namespace Nanoq.Detection.Tests.RetinaNet;

/// <summary>FQN installed on a whole detector: every tap quantized, calibration, outputs on their grids.</summary>
public class QuantizedRetinaNetTests
{
    private static Detection.RetinaNet Tiny() =>
        new(RetinaNetConfig.Small(2) with { BackboneWidth = 0.125f, FpnChannels = 8, HeadConvs = 1, InputSize = 64 }, seed: 1);

    private static IEnumerable<Tensor> Batches(int n) => Enumerable.Range(0, n).Select(i => new Rng((ulong)i).Normal(new Shape(2, 3, 64, 64)));

    [Fact]
    public void EveryTapIsQuantizedAndNamed()
    {
        var model = Tiny();
        var registry = ModelQuantizer.Install(model, QuantRecipe.Fqn(4));
        Assert.All(model.NamedTaps().Select(t => t.Tap).OfType<ConvUnit>(), u => Assert.IsType<FoldedConv>(u.Implementation));
        Assert.All(model.NamedTaps().Select(t => t.Tap), t => Assert.NotNull(t.OutputQuantizer));
        var names = registry.Quantizers.Select(q => q.Name).ToHashSet();
        foreach (var n in new[] { "input.activation_post_process", "backbone.conv1.weight_fake_quant", "backbone.conv1.activation_post_process",
                                  "backbone.layer1.0.add.activation_post_process", "fpn.topdown3.activation_post_process", "fpn.p7.activation_post_process",
                                  "head.cls_logits.activation_post_process", "head.bbox_pred.activation_post_process" })
            Assert.Contains(n, names);
        // Under P, activations use percentiles, box deltas included; the class logits, which have a consumer floor
        // (logit of the score threshold), use min/max above it (see QuantRecipe.CreateActQuantizer).
        var logits = (ActQuantizer)registry["head.cls_logits.activation_post_process"];
        Assert.IsType<MinMaxObserver>(logits.Observer);
        Assert.Equal(MathF.Log(0.05f / 0.95f), logits.Floor!.Value, 5);
        Assert.IsType<PercentileObserver>(((ActQuantizer)registry["head.bbox_pred.activation_post_process"]).Observer);
        Assert.Null(((ActQuantizer)registry["head.bbox_pred.activation_post_process"]).Floor);
        Assert.IsType<PercentileObserver>(((ActQuantizer)registry["fpn.p7.activation_post_process"]).Observer);
        ModelQuantizer.Remove(model);
        Assert.All(model.NamedTaps().Select(t => t.Tap).OfType<ConvUnit>(), u => Assert.Null(u.Implementation));
        Assert.Empty(QuantRegistry.Collect(model).Quantizers);
    }

    [Fact]
    public void The_logits_grid_starts_just_below_the_score_thresholds_logit()
    {
        var model = Tiny();
        // Spread the logits over several units around 0, as a trained head's are (a fresh one sits at the prior).
        new Rng(3).FillNormal(model.Head.ClsLogits.Conv.Weight.Value.Span, 0f, 1f);
        model.Head.ClsLogits.Conv.Bias!.Value.Clear();
        var registry = ModelQuantizer.Install(model, QuantRecipe.Fqn(4));
        Calibrator.Calibrate(model, Batches(3), x => model.Forward(new Var(x)), 3);
        var logits = (ActQuantizer)registry["head.cls_logits.activation_post_process"];
        var (min, max) = logits.Observer.Range;
        float floor = RetinaNetHead.LogitFloor(model.Config.ScoreThreshold)!.Value; // logit(0.05) ≈ −2.944
        Assert.True(min < floor - 1f && max > 1f, $"the test needs logits on both sides of the floor: [{min}, {max}]");
        var q = logits.Current!.Value;
        // The lowest code is at most one and a half steps below the floor and still no detection (σ(lb') ≤ 0.05)…
        Assert.InRange(q.Lb, floor - 1.5f * q.Scale, floor);
        // …and the step is what [floor, max] alone would give, up to the one step of margin.
        Assert.True(q.Scale < QParams.FromRange(min, max, 4).Scale);
        Assert.InRange(q.Scale, (max - floor) / 15f, (max - floor) / 14f * 1.0001f);
    }

    [Fact]
    public void CalibratedModelProducesOutputsOnTheirGrids()
    {
        var model = Tiny();
        var registry = ModelQuantizer.Install(model, QuantRecipe.Fqn(4));
        Calibrator.Calibrate(model, Batches(3), x => model.Forward(new Var(x)), 3);
        Assert.All(registry.Activations.Cast<ActQuantizer>(), a => Assert.NotNull(a.Current));
        model.Eval();
        using var _ = GradMode.NoGrad();
        var o = model.Forward(new Var(new Rng(7).Normal(new Shape(1, 3, 64, 64))));
        var q = ((ActQuantizer)registry["head.cls_logits.activation_post_process"]).Current!.Value;
        foreach (float v in model.Heads(o).Logits.Value.Span)
        {
            float code = v / q.Scale + q.ZeroPoint;
            Assert.InRange(code, -1e-3f, 15.001f);
            Assert.True(MathF.Abs(code - MathF.Round(code)) < 1e-3f, $"{v} is not on the grid Δ(q − z), Δ = {q.Scale}, z = {q.ZeroPoint}");
        }
    }

    [Fact]
    public void FineTuningStepsRunAndLowerTheLoss()
    {
        var model = Tiny();
        var registry = ModelQuantizer.Install(model, QuantRecipe.Fqn(4));
        Calibrator.Calibrate(model, Batches(2), x => model.Forward(new Var(x)), 2);
        var images = new Rng(3).Normal(new Shape(2, 3, 64, 64));
        var targets = new[] { new DetectionTarget([8, 8, 40, 40], [0]), new DetectionTarget([20, 4, 60, 30], [1]) };
        var sgd = new Nn.Optim.Sgd(model.NamedParameters(), 0.01f);
        model.Train();
        var losses = new List<float>();
        for (int i = 0; i < 15; i++)
        {
            using var tape = new Tape();
            var l = model.Loss(model.Forward(new Var(images)), targets).Total;
            losses.Add(l.Value.Span[0]);
            l.Backward();
            sgd.Step();
            sgd.ZeroGrad();
        }
        Assert.True(losses[^1] < losses[0], $"{losses[0]} → {losses[^1]}");
        Assert.True(registry.Count > 0);
    }
}
