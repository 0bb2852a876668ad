using Nanoq.Autograd;
using Nanoq.Nn.Optim;

namespace Nanoq.Detection.Tests.FasterRcnn;

/// <summary>The whole Faster R-CNN at tiny scale: shapes of both modes, training, detection.</summary>
public class FasterRcnnTests
{
    /// <summary>64-px input: P2 16², …, P5 2², P6 1²; anchors 8..128 px; 64 proposals at test, 32 RoIs an image.</summary>
    internal static FasterRcnnConfig Tiny => FasterRcnnConfig.Small(2) with
    {
        BackboneWidth = 0.125f, FpnChannels = 8, AnchorSize = 8, InputSize = 64, RepresentationSize = 32, RoiCanonicalScale = 56,
        RpnPreNmsTopNTrain = 200, RpnPostNmsTopNTrain = 100, RpnPreNmsTopNTest = 100, RpnPostNmsTopNTest = 64,
        RpnBatchSizePerImage = 64, BoxBatchSizePerImage = 32, SamplerSeed = 11,
    };

    /// <summary>Images with one or two filled squares (class 0 bright, class 1 dark) on noise, and their boxes.</summary>
    internal static (Tensor Images, DetectionTarget[] Targets) Batch(Rng rng, int n, int size)
    {
        var images = Tensor.Empty(n, 3, size, size);
        var targets = new DetectionTarget[n];
        var px = images.Span;
        for (int i = 0; i < px.Length; i++) px[i] = rng.Normal(0f, 0.1f);
        for (int b = 0; b < n; b++)
        {
            var boxes = new List<float>();
            var labels = new List<int>();
            int count = 1 + rng.NextInt(2);
            for (int o = 0; o < count; o++)
            {
                int side = rng.NextInt(12, 28), x0 = rng.NextInt(0, size - side), y0 = rng.NextInt(0, size - side);
                int label = rng.NextInt(2);
                float v = label == 0 ? 2f : -2f;
                for (int c = 0; c < 3; c++)
                    for (int y = y0; y < y0 + side; y++)
                        for (int x = x0; x < x0 + side; x++) px[((b * 3 + c) * size + y) * size + x] = v;
                boxes.AddRange([x0, y0, x0 + side, y0 + side]);
                labels.Add(label);
            }
            targets[b] = new DetectionTarget(boxes.ToArray(), labels.ToArray());
        }
        return (images, targets);
    }

    [Fact]
    public void Evaluation_forward_ends_in_rpn_maps_then_box_head_outputs_over_the_proposals()
    {
        var model = new Detection.FasterRcnn(Tiny, seed: 1);
        model.Eval();
        using var _ = GradMode.NoGrad();
        var o = model.Forward(new Var(Tensor.Zeros(2, 3, 64, 96)));
        var st = Assert.IsType<FasterRcnnState>(o.State);
        Assert.Equal(5, st.NumLevels);
        Assert.Null(st.Features);
        Assert.Equal(12, o.Outputs.Count);
        (int, int)[] grids = [(16, 24), (8, 12), (4, 6), (2, 3), (1, 2)]; // P2–P5, P6 = maxpool_{1,2}(P5)
        for (int l = 0; l < 5; l++)
        {
            Assert.Equal([2, 3, grids[l].Item1, grids[l].Item2], o.Outputs[l].Shape.ToArray());
            Assert.Equal([2, 12, grids[l].Item1, grids[l].Item2], o.Outputs[5 + l].Shape.ToArray());
        }
        Assert.Equal(2, st.Proposals.Count);
        int r = st.Proposals.Sum(p => p.Length / 4);
        Assert.All(st.Proposals, p => Assert.InRange(p.Length / 4, 1, 64));
        Assert.Equal([r, 3], o.Outputs[10].Shape.ToArray());   // K + 1 classes
        Assert.Equal([r, 12], o.Outputs[11].Shape.ToArray());  // class-specific deltas
        foreach (var p in st.Proposals)
            for (int j = 0; j < p.Length; j += 4)
            {
                Assert.InRange(p[j], 0f, 96f);
                Assert.InRange(p[j + 3], 0f, 64f);
            }
    }

    [Fact]
    public void Training_forward_ends_in_the_rpn_maps_and_keeps_p2_to_p5_for_the_loss()
    {
        var model = new Detection.FasterRcnn(Tiny, seed: 1);
        var (images, targets) = Batch(new Rng(2), 2, 64);
        var o = model.Forward(new Var(images));
        Assert.Equal(10, o.Outputs.Count);
        var st = Assert.IsType<FasterRcnnState>(o.State);
        Assert.Equal([16, 8, 4, 2], st.Features!.Select(f => f.Shape[2]).ToArray());
        Assert.All(st.Proposals, p => Assert.InRange(p.Length / 4, 1, 100));
        var l = model.Loss(o, targets);
        Assert.Equal(["objectness", "rpn_box", "classification", "box"], l.Terms.Select(t => t.Name).ToArray());
        Assert.True(l.Foreground >= targets.Sum(t => t.Count)); // every ground-truth box is an RoI of its own class
        Assert.All(l.Terms, t => Assert.True(float.IsFinite(t.Value.Value.Span[0]), t.Name));
        Assert.Throws<ArgumentException>(() => model.Postprocess(o, [(64, 64), (64, 64)]));
    }

    [Fact]
    public void The_fpn_is_the_shared_pyramid_with_c2_laterals_and_no_p6_conv()
    {
        var model = new Detection.FasterRcnn(Tiny, seed: 1);
        Assert.Equal(2, model.Fpn.FirstLevel);
        Assert.Equal(FpnLastLevel.MaxPool, model.Fpn.LastLevel);
        var names = model.StateDict().Keys.ToHashSet();
        Assert.Contains("fpn.lateral2.weight", names);
        Assert.Contains("fpn.output5.weight", names);
        Assert.DoesNotContain(names, n => n.StartsWith("fpn.p6", StringComparison.Ordinal));
        Assert.Contains("rpn_head.conv.weight", names);
        Assert.Contains("box_head.fc6.weight", names);
        Assert.Contains("box_predictor.bbox_pred.bias", names);
        Assert.Equal(8 * 7 * 7, model.BoxHead.Fc6.Linear.Weight.Shape[1]); // flattened [C, 7, 7]
    }

    [Fact]
    public void TrainingAFewStepsLowersTheLoss()
    {
        var model = new Detection.FasterRcnn(Tiny, seed: 2);
        var sgd = new Sgd(model.NamedParameters(), lr: 0.01f, momentum: 0.9f, weightDecay: 1e-4f);
        var (images, targets) = Batch(new Rng(7), 4, 64);
        var losses = new List<float>();
        for (int step = 0; step < 20; step++)
        {
            model.Step = step;
            using var tape = new Tape();
            var l = model.Loss(model.Forward(new Var(images)), targets);
            var total = l.Total;
            losses.Add(total.Value.Span[0]);
            total.Backward();
            sgd.Step();
            sgd.ZeroGrad();
        }
        Assert.All(losses, v => Assert.True(float.IsFinite(v)));
        Assert.True(losses.Skip(15).Average() < 0.8f * losses[0], $"loss {losses[0]:F3} → {string.Join(", ", losses.Skip(15).Select(v => v.ToString("F3")))}");
    }

    [Fact]
    public void Detect_returns_sorted_clipped_boxes_in_each_images_pixels()
    {
        var model = new Detection.FasterRcnn(Tiny with { ScoreThreshold = 0f, MaxDetections = 30 }, seed: 3);
        model.Eval();
        var (images, _) = Batch(new Rng(1), 2, 64);
        var dets = model.Detect(images, [(64, 64), (50, 40)]);
        Assert.Equal(2, dets.Count);
        for (int i = 0; i < 2; i++)
        {
            var d = dets[i];
            Assert.InRange(d.Count, 1, 30);
            var (h, w) = i == 0 ? (64, 64) : (50, 40);
            for (int j = 0; j < d.Count; j++)
            {
                Assert.InRange(d.Boxes[4 * j], 0, w);
                Assert.InRange(d.Boxes[4 * j + 1], 0, h);
                Assert.InRange(d.Boxes[4 * j + 2], 0, w);
                Assert.InRange(d.Boxes[4 * j + 3], 0, h);
                Assert.True(d.Boxes[4 * j + 2] > d.Boxes[4 * j] && d.Boxes[4 * j + 3] > d.Boxes[4 * j + 1]);
                if (j > 0) Assert.True(d.Scores[j] <= d.Scores[j - 1]);
                Assert.InRange(d.Labels[j], 0, 1);
            }
        }
    }

    [Fact]
    public void Images_without_objects_train_as_background()
    {
        var model = new Detection.FasterRcnn(Tiny, seed: 4);
        var l = model.Loss(model.Forward(new Var(new Rng(5).Normal(new Shape(2, 3, 64, 64)))), [new DetectionTarget([], []), new DetectionTarget([], [])]);
        Assert.Equal(0, l.Foreground);
        Assert.Equal(0f, l["box"].Value.Span[0]);
        Assert.Equal(0f, l["rpn_box"].Value.Span[0]);
        l.Total.Backward();
        Assert.True(float.IsFinite(l["classification"].Value.Span[0]));
    }

    [Fact]
    public void The_factory_builds_it_from_its_configuration()
    {
        var model = new Detection.FasterRcnn(Tiny, seed: 1);
        var again = Detectors.Create("faster-rcnn", model.ConfigJson);
        var fr = Assert.IsType<Detection.FasterRcnn>(again);
        Assert.Equal(model.Config, fr.Config);
        Assert.Equal("faster-rcnn", again.Kind);
        Assert.Contains("faster-rcnn", Detectors.Kinds);
    }
}
