using Nanoq.Autograd;
using Nanoq.Nn.Optim;

namespace Nanoq.Detection.Tests.RetinaNet;

public class RetinaNetTests
{
    private static RetinaNetConfig Tiny => RetinaNetConfig.Small(2) with { BackboneWidth = 0.125f, FpnChannels = 16, HeadConvs = 1, InputSize = 64 };

    /// <summary>Images with one or two filled squares (class 0 bright, class 1 dark) on noise, and their boxes.</summary>
    private static (Tensor Images, DetectionTarget[] Targets) Batch(Rng rng, int n, int size)
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
    public void HeadsCoverEveryAnchorOfEveryLevel()
    {
        var model = new Detection.RetinaNet(Tiny, seed: 1);
        model.Eval();
        using var _ = GradMode.NoGrad();
        var o = model.Forward(new Var(Tensor.Zeros(2, 3, 64, 96)));
        Assert.Equal([(8, 12), (4, 6), (2, 3), (1, 2), (1, 1)], Detection.RetinaNet.GridSizes(o));
        var (logits, deltas) = model.Heads(o);
        int anchors = model.AnchorsFor(o).Shape[0];
        Assert.Equal(9 * (96 + 24 + 6 + 2 + 1), anchors);
        Assert.Equal([2, anchors, 2], logits.Shape.ToArray());
        Assert.Equal([2, anchors, 4], deltas.Shape.ToArray());
        // The prior bias: every anchor starts at foreground probability π = 0.01 (zero-mean features aside).
        float p = 1f / (1f + MathF.Exp(-logits.Value.Span[0]));
        Assert.Equal(0.01f, p, 2);
    }

    [Fact]
    public void TrainingAFewStepsLowersTheLoss()
    {
        var model = new Detection.RetinaNet(Tiny, seed: 2);
        var sgd = new Sgd(model.NamedParameters(), lr: 0.01f, momentum: 0.9f, weightDecay: 1e-4f);
        var (images, targets) = Batch(new Rng(7), 4, 64);
        var losses = new List<float>();
        for (int step = 0; step < 25; step++)
        {
            using var tape = new Tape();
            var l = model.Loss(model.Forward(new Var(images)), targets);
            Assert.True(l.Foreground > 0);
            var total = l.Total;
            losses.Add(total.Value.Span[0]);
            total.Backward();
            sgd.Step();
            sgd.ZeroGrad();
        }
        Assert.All(losses, v => Assert.True(float.IsFinite(v)));
        Assert.True(losses[^1] < 0.6f * losses[0], $"loss {losses[0]:F3} → {losses[^1]:F3}");
    }

    [Fact]
    public void PostprocessGivesSortedClippedBoundedDetections()
    {
        var model = new Detection.RetinaNet(Tiny with { ScoreThreshold = 0f, MaxDetections = 30 }, seed: 3);
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
                Assert.InRange(d.Boxes[4 * j + 1], 0, h); // y1 too: a clip that forgot the top edge must fail here
                Assert.InRange(d.Boxes[4 * j + 2], 0, w);
                Assert.InRange(d.Boxes[4 * j + 3], 0, h);
                Assert.True(d.Boxes[4 * j + 2] > d.Boxes[4 * j] && d.Boxes[4 * j + 3] > d.Boxes[4 * j + 1]);
                if (j > 0) Assert.True(d.Scores[j] <= d.Scores[j - 1]);
                Assert.InRange(d.Labels[j], 0, 1);
            }
        }
    }

    [Fact]
    public void ImagesWithoutObjectsTrainAsBackground()
    {
        var model = new Detection.RetinaNet(Tiny, seed: 4);
        var l = model.Loss(model.Forward(new Var(Tensor.Zeros(2, 3, 64, 64))), [new DetectionTarget([], []), new DetectionTarget([], [])]);
        Assert.Equal(0, l.Foreground);
        Assert.Equal(0f, l["box"].Value.Span[0]);
        l.Total.Backward();
        Assert.True(float.IsFinite(l["classification"].Value.Span[0]));
    }
}
