using Nanoq.Autograd;

namespace Nanoq.Detection.Tests.FasterRcnn;

/// <summary>The RPN pieces against torchvision 0.14 (rpn.json): head layout, anchors, proposals, targets, loss.</summary>
public class RpnTests
{
    private static readonly System.Text.Json.JsonElement Fx = TorchvisionFixture.Json("rpn.json");

    private static float[] Anchors()
    {
        var sizes = Fx.Floats("anchor_sizes").Select(s => new[] { s }).ToArray();
        var ratios = sizes.Select(_ => Fx.Floats("aspect_ratios")).ToArray();
        var gen = new AnchorGenerator(sizes, ratios);
        var padded = Fx.Ints("padded");
        var grids = Fx.Sizes("grids");
        var a = new float[4 * gen.NumAnchors(grids)];
        gen.Generate(padded[0], padded[1], grids, a);
        return a;
    }

    /// <summary>One size a level and three ratios: the existing AnchorGenerator gives torchvision's anchors exactly.</summary>
    [Fact]
    public void Anchors_one_size_per_level_three_ratios()
    {
        TorchvisionFixture.Exact(Fx.Floats("anchors"), Anchors(), "anchors");
        var gen = RpnAnchors.FasterRcnn(smallestSize: 16, numLevels: 3);
        var padded = Fx.Ints("padded");
        TorchvisionFixture.Exact(Fx.Floats("anchors"), gen.Generate(padded[0], padded[1], Fx.Sizes("grids")).Span, "RpnAnchors");
    }

    /// <summary>concat_box_prediction_layers: per-level [N, A, H, W] / [N, 4A, H, W] to one row per anchor, exactly.</summary>
    [Fact]
    public void Head_layout_matches_concat_box_prediction_layers()
    {
        var (obj, del) = Layout();
        TorchvisionFixture.Exact(Fx.Floats("objectness"), obj.Value.Span, "objectness");
        TorchvisionFixture.Exact(Fx.Floats("deltas"), del.Value.Span, "deltas");
    }

    private static (Var, Var) Layout(bool requiresGrad = false)
    {
        var grids = Fx.Sizes("grids");
        int n = Fx.Sizes("image_shapes").Length, a = Fx.Floats("aspect_ratios").Length;
        var objLevels = Fx.PerImage("objectness_levels");
        var delLevels = Fx.PerImage("deltas_levels");
        var o = grids.Select((g, l) => new Var(Tensor.FromArray(objLevels[l], n, a, g.Item1, g.Item2), requiresGrad)).ToArray();
        var d = grids.Select((g, l) => new Var(Tensor.FromArray(delLevels[l], n, 4 * a, g.Item1, g.Item2), requiresGrad)).ToArray();
        return RpnHeadLayout.Concat(o, d);
    }

    /// <summary>filter_proposals (decode, top-n per level, clip, small boxes, score threshold, NMS 0.7 per level, post top-n).</summary>
    [Fact]
    public void Proposals_match_filter_proposals()
    {
        var images = Fx.Sizes("image_shapes");
        var proposals = RpnProposalFilter.Decode(Fx.Floats("deltas"), Anchors(), images.Length);
        foreach (var cs in Fx.Cases("filter_cases"))
        {
            var filter = new RpnProposalFilter(cs.Int("pre_nms_top_n"), cs.Int("post_nms_top_n"), Fx.Double("nms_thresh"),
                                               (float)cs.Double("score_thresh"), (float)Fx.Double("min_size"));
            var result = filter.Filter(proposals, Fx.Floats("objectness"), Fx.Ints("num_anchors_per_level"), images);
            var boxes = cs.PerImage("boxes");
            var scores = cs.PerImage("scores");
            for (int i = 0; i < images.Length; i++)
            {
                FixtureValues.Close(scores[i], result[i].Scores, $"{cs.Name()} image {i} scores");
                FixtureValues.Close(boxes[i], result[i].Boxes, $"{cs.Name()} image {i} boxes");
            }
        }
    }

    /// <summary>assign_targets_to_anchors (Matcher 0.7/0.3, low-quality matches; an image without boxes) and the encoding.</summary>
    [Fact]
    public void Targets_match_assign_targets_to_anchors()
    {
        var anchors = Anchors();
        var gt = Fx.PerImage("gt_boxes");
        var labels = Fx.PerImage("labels");
        var targets = Fx.PerImage("regression_targets");
        for (int i = 0; i < gt.Length; i++)
        {
            var (l, matched) = RpnTargets.AssignTargetsToAnchors(anchors, gt[i], RpnTargets.Matcher());
            Assert.Equal(labels[i].Select(v => (int)v).ToArray(), l);
            FixtureValues.Close(targets[i], RpnTargets.RegressionTargets(matched, anchors), $"image {i} targets");
        }
    }

    /// <summary>compute_loss on the recorded samples: both losses and their gradients.</summary>
    [Fact]
    public void Loss_matches_compute_loss()
    {
        var anchors = Anchors();
        var gt = Fx.PerImage("gt_boxes");
        var labels = new int[gt.Length][];
        var targets = new float[gt.Length][];
        for (int i = 0; i < gt.Length; i++)
        {
            (labels[i], var matched) = RpnTargets.AssignTargetsToAnchors(anchors, gt[i], RpnTargets.Matcher());
            targets[i] = RpnTargets.RegressionTargets(matched, anchors);
        }
        var (obj, del) = Layout(requiresGrad: true);
        var loss = RpnLoss.Compute(obj, del, labels, targets, Fx.IntsPerImage("sampled_pos"), Fx.IntsPerImage("sampled_neg"));
        FixtureValues.Close([(float)Fx.Double("objectness_loss")], loss[RpnLoss.Objectness].Value.Span, "objectness loss");
        FixtureValues.Close([(float)Fx.Double("box_loss")], loss[RpnLoss.Box].Value.Span, "box loss");

        var o = new Var(Tensor.FromArray(Fx.Floats("objectness"), Fx.Floats("objectness").Length), requiresGrad: true);
        var d = new Var(Tensor.FromArray(Fx.Floats("deltas"), Fx.Floats("deltas").Length / 4, 4), requiresGrad: true);
        var l1 = RpnLoss.Compute(o, d, labels, targets, Fx.IntsPerImage("sampled_pos"), Fx.IntsPerImage("sampled_neg"));
        l1[RpnLoss.Objectness].Backward();
        FixtureValues.Close(Fx.Floats("objectness_loss_grad"), o.Grad!.Span, "objectness grad");
        l1[RpnLoss.Box].Backward();
        FixtureValues.Close(Fx.Floats("box_loss_grad"), d.Grad!.Span, "box grad");
    }
}
