using Nanoq.Autograd;

namespace Nanoq.Detection.Tests.FasterRcnn;

/// <summary>The RoI-head pieces against torchvision 0.14 (roi_heads.json). Fixture labels are torchvision's (1..K, 0 background);
/// Nanoq's targets carry label − 1.</summary>
public class RoiHeadsTests
{
    private static readonly System.Text.Json.JsonElement Fx = TorchvisionFixture.Json("roi_heads.json");

    private static RoiHeadSamples[] Samples()
    {
        var sel = Fx.GetProperty("select");
        var props = sel.PerImage("proposals");
        var gt = sel.PerImage("gt_boxes");
        var gtLabels = sel.IntsPerImage("gt_labels");
        var pos = sel.IntsPerImage("sampled_pos");
        var neg = sel.IntsPerImage("sampled_neg");
        return props.Select((p, i) => RoiHeadTargets.Select(p, gt[i], gtLabels[i].Select(l => l - 1).ToArray(), pos[i], neg[i])).ToArray();
    }

    /// <summary>select_training_samples: gt appended, Matcher 0.5/0.5, recorded samples, (10, 10, 5, 5) targets.</summary>
    [Fact]
    public void Select_training_samples_matches()
    {
        var sel = Fx.GetProperty("select");
        var samples = Samples();
        var props = sel.PerImage("sampled_proposals");
        var matched = sel.IntsPerImage("matched_idxs");
        var labels = sel.IntsPerImage("labels");
        var targets = sel.PerImage("regression_targets");
        for (int i = 0; i < samples.Length; i++)
        {
            TorchvisionFixture.Exact(props[i], samples[i].Proposals, $"image {i} proposals");
            Assert.Equal(matched[i], samples[i].MatchedIdxs);
            Assert.Equal(labels[i], samples[i].Classes);
            FixtureValues.Close(targets[i], samples[i].RegressionTargets, $"image {i} targets");
        }
    }

    /// <summary>fastrcnn_loss: CE + smooth L1 (β 1/9) on the true class's deltas of foreground rows, / rows; and the gradients.</summary>
    [Fact]
    public void Fastrcnn_loss_matches()
    {
        var loss = Fx.GetProperty("loss");
        var samples = Samples();
        int c = loss.Int("num_classes");
        var classes = samples.SelectMany(s => s.Classes).ToArray();
        var targets = samples.SelectMany(s => s.RegressionTargets).ToArray();
        int s = classes.Length;
        var logits = new Var(Tensor.FromArray(loss.Floats("class_logits"), s, c), requiresGrad: true);
        var box = new Var(Tensor.FromArray(loss.Floats("box_regression"), s, 4 * c), requiresGrad: true);
        var l = FastRcnnLoss.Compute(logits, box, classes, Tensor.FromArray(targets, s, 4));
        FixtureValues.Close([(float)loss.Double("classification_loss")], l[FastRcnnLoss.Classification].Value.Span, "classification loss");
        FixtureValues.Close([(float)loss.Double("box_loss")], l[FastRcnnLoss.Box].Value.Span, "box loss");
        l[FastRcnnLoss.Classification].Backward();
        FixtureValues.Close(loss.Floats("classification_grad"), logits.Grad!.Span, "classification grad");
        l[FastRcnnLoss.Box].Backward();
        FixtureValues.Close(loss.Floats("box_grad"), box.Grad!.Span, "box grad");
    }

    /// <summary>postprocess_detections: softmax, class-specific decode, clip, score threshold, small boxes, NMS 0.5 per class, top n.</summary>
    [Fact]
    public void Postprocess_detections_matches()
    {
        var post = Fx.GetProperty("postprocess");
        var props = post.PerImage("proposals");
        var images = post.Sizes("image_shapes");
        int c = post.Int("num_classes"), rows = props.Sum(p => p.Length / 4);
        var logits = Tensor.FromArray(post.Floats("class_logits"), rows, c);
        var box = Tensor.FromArray(post.Floats("box_regression"), rows, 4 * c);
        foreach (var cs in post.Cases("cases"))
        {
            var p = new RoiHeadPostprocessor((float)cs.Double("score_thresh"), post.Double("nms_thresh"), cs.Int("detections_per_img"));
            var dets = p.Postprocess(logits, box, props, images);
            var boxes = cs.PerImage("boxes");
            var scores = cs.PerImage("scores");
            var labels = cs.IntsPerImage("labels");
            for (int i = 0; i < images.Length; i++)
            {
                Assert.Equal(labels[i].Select(v => v - 1).ToArray(), dets[i].Labels);
                FixtureValues.Close(scores[i], dets[i].Scores, $"{cs.Name()} image {i} scores");
                FixtureValues.Close(boxes[i], dets[i].Boxes, $"{cs.Name()} image {i} boxes");
            }
        }
    }
}
