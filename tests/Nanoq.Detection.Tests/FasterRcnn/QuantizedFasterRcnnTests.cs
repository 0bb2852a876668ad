using Nanoq.Autograd;
using Nanoq.Nn.Taps;
using Nanoq.Nn.Training;
using Nanoq.Quant;
using Nanoq.Quant.Quantizers;
using Nanoq.Quant.Taps;

namespace Nanoq.Detection.Tests.FasterRcnn;

/// <summary>FQN on a whole Faster R-CNN: every tap quantized (RPN head, box head, the RoI site), calibration, fine-tuning.</summary>
public class QuantizedFasterRcnnTests
{
    private static Detection.FasterRcnn Tiny(ulong seed = 1) => new(FasterRcnnTests.Tiny, seed);

    private static IEnumerable<DetectionBatch> Batches(int count, int first = 0) => Enumerable.Range(first, count).Select(i =>
    {
        var (images, targets) = FasterRcnnTests.Batch(new Rng((ulong)i), 2, 64);
        return new DetectionBatch(images, targets);
    });

    [Fact]
    public void Fqn_install_covers_every_tap_of_both_stages()
    {
        var model = Tiny();
        var registry = ModelQuantizer.Install(model, QuantRecipe.Fqn(4));
        var taps = model.NamedTaps().ToList();
        Assert.All(taps.Select(t => t.Tap), t => Assert.NotNull(t.OutputQuantizer));
        Assert.All(taps.Select(t => t.Tap).OfType<ConvUnit>(), u => Assert.IsType<FoldedConv>(u.Implementation));
        Assert.Equal(4, taps.Count(t => t.Tap is LinearUnit)); // fc6, fc7, cls_score, bbox_pred
        var names = registry.Quantizers.Select(q => q.Name).ToHashSet();
        foreach (var n in new[]
                 {
                     "input.activation_post_process", "fpn.lateral2.activation_post_process", "fpn.topdown2.activation_post_process",
                     "fpn.output2.activation_post_process", "rpn_head.conv.weight_fake_quant", "rpn_head.conv.activation_post_process",
                     "rpn_head.cls_logits.activation_post_process", "rpn_head.bbox_pred.activation_post_process",
                     "roi_pool.activation_post_process",
                     "box_head.fc6.weight_fake_quant", "box_head.fc6.activation_post_process", "box_head.fc7.weight_fake_quant",
                     "box_head.fc7.activation_post_process", "box_predictor.cls_score.weight_fake_quant",
                     "box_predictor.cls_score.activation_post_process", "box_predictor.bbox_pred.weight_fake_quant",
                     "box_predictor.bbox_pred.activation_post_process",
                 })
            Assert.Contains(n, names);
        Assert.DoesNotContain(names, n => n.StartsWith("fpn.p6", StringComparison.Ordinal)); // P6 is max pooling on P5's codes
    }

    [Fact]
    public void Calibration_reaches_every_activation_and_the_outputs_lie_on_their_grids()
    {
        var model = Tiny();
        var registry = ModelQuantizer.Install(model, QuantRecipe.Fqn(4));
        int used = Calibrator.Calibrate(model, Batches(2), b => { using (b) model.Forward(new Var(b.Images)); }, 2);
        Assert.Equal(2, used);
        Assert.All(registry.Activations.Cast<ActQuantizer>(), a => Assert.True(a.Current is not null, a.Name));
        model.Eval();
        using var _ = GradMode.NoGrad();
        var o = model.Forward(new Var(new Rng(9).Normal(new Shape(1, 3, 64, 64))));
        foreach (var (site, value) in new[] { ("box_predictor.cls_score", o.Outputs[^2]), ("box_predictor.bbox_pred", o.Outputs[^1]), ("rpn_head.cls_logits", o.Outputs[0]) })
        {
            var q = ((ActQuantizer)registry[site + ".activation_post_process"]).Current!.Value;
            foreach (float v in value.Value.Span)
            {
                float code = v / q.Scale + q.ZeroPoint;
                Assert.InRange(code, -1e-3f, 15.001f);
                Assert.True(MathF.Abs(code - MathF.Round(code)) < 1e-3f, $"{site}: {v} is not on the grid Δ(q − z), Δ = {q.Scale}, z = {q.ZeroPoint}");
            }
        }
    }

    [Fact]
    public void A_quantized_tiny_faster_rcnn_calibrates_and_fine_tunes()
    {
        var model = Tiny(seed: 3);
        string path = Path.Combine(Path.GetTempPath(), $"nanoq-frcnn-ft-{Guid.NewGuid():N}.safetensors");
        try
        {
            var recipe = QuantRecipe.Fqn(4) with { Steps = 4, CalibrationBatches = 2 };
            var opts = new TrainOptions { Steps = 4, BatchSize = 2, Lr = 0.05f, WarmupSteps = 0, Milestones = [], CheckpointEvery = 10 };
            var before = model.BoxHead.Fc6.Linear.Weight.Value.ToArray();
            var registry = DetectorTraining.FineTune(model, recipe, opts, Batches(2), step => Batches(1, step), path, "qat", TextWriter.Null, CancellationToken.None);
            Assert.All(registry.Activations.Cast<ActQuantizer>(), a => Assert.True(a.Current is not null, a.Name));
            Assert.False(model.Training);
            Assert.NotEqual(before, model.BoxHead.Fc6.Linear.Weight.Value.ToArray());
            var dets = model.Detect(FasterRcnnTests.Batch(new Rng(4), 1, 64).Images, [(64, 64)]);
            Assert.Single(dets);
        }
        finally
        {
            File.Delete(path);
            File.Delete(Path.ChangeExtension(path, ".csv"));
        }
    }
}
