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

    /// <summary>
    /// The filter level by level (each level's top-n, filters and NMS on its own, then the kept boxes merged by score and
    /// position) against batched_nms over all levels at once (NonMaxSuppression.BatchedNms with the level as the
    /// class), exactly: random logits on a coarse grid (many exact ties, within and across levels), boxes that overlap
    /// at all scales, a score threshold and a post-NMS cut that bind, one image and three.
    /// </summary>
    [Fact]
    public void Proposals_by_level_equal_batched_nms_over_all_levels()
    {
        var rng = new Rng(17);
        int[] perLevel = [300, 120, 45, 9];
        int a = perLevel.Sum();
        foreach (int n in new[] { 1, 3 })
            foreach (var (pre, post, thresh) in new[] { (40, 60, 0f), (1000, 25, 0.3f), (7, 1000, 0.5f) })
            {
                var logits = new float[n * a];
                var boxes = new float[4 * n * a];
                for (int i = 0; i < logits.Length; i++) logits[i] = MathF.Round(rng.NextFloat() * 8 - 4, 0) / 2;   // 17 values
                for (int i = 0; i < n * a; i++)
                {
                    float x = rng.NextFloat() * 50, y = rng.NextFloat() * 50, w = rng.NextFloat() * 30, h = rng.NextFloat() * 30;
                    if (i % 23 == 0) w = 0;   // removed as small
                    boxes[4 * i] = x; boxes[4 * i + 1] = y; boxes[4 * i + 2] = x + w; boxes[4 * i + 3] = y + h;
                }
                var sizes = Enumerable.Repeat((64, 60), n).ToArray();
                var filter = new RpnProposalFilter(pre, post, 0.7, thresh, 1e-3f);
                var result = filter.Filter(boxes, logits, perLevel, sizes);
                for (int img = 0; img < n; img++)
                {
                    var (eb, es) = BatchedReference(filter, logits.AsSpan(img * a, a), boxes.AsSpan(4 * img * a, 4 * a), perLevel, 64, 60);
                    Assert.Equal(es, result[img].Scores);
                    Assert.Equal(eb, result[img].Boxes);
                }
            }
    }

    /// <summary>filter_proposals as torchvision writes it: every level's top-n into one list, filters, batched_nms over the list.</summary>
    private static (float[] Boxes, float[] Scores) BatchedReference(RpnProposalFilter f, ReadOnlySpan<float> logits, ReadOnlySpan<float> boxes,
                                                                     int[] perLevel, int h, int w)
    {
        var picked = new List<int>();
        var level = new List<int>();
        for (int l = 0, offset = 0; l < perLevel.Length; offset += perLevel[l], l++)
            foreach (int j in TopK.Select(logits.Slice(offset, perLevel[l]), Math.Min(f.PreNmsTopN, perLevel[l])))
            {
                picked.Add(offset + j);
                level.Add(l);
            }
        var b = new float[4 * picked.Count];
        var s = new float[picked.Count];
        for (int k = 0; k < picked.Count; k++)
        {
            boxes.Slice(4 * picked[k], 4).CopyTo(b.AsSpan(4 * k));
            s[k] = 1f / (1f + MathF.Exp(-logits[picked[k]]));
        }
        Boxes.ClipToImage(b, h, w, b);
        var keep = Boxes.RemoveSmall(b, f.MinSize).Where(k => s[k] >= f.ScoreThresh).ToArray();
        var kb = keep.SelectMany(k => b.AsSpan(4 * k, 4).ToArray()).ToArray();
        var ks = keep.Select(k => s[k]).ToArray();
        var kl = keep.Select(k => level[k]).ToArray();
        var nms = NonMaxSuppression.BatchedNms(kb, ks, kl, f.NmsThresh, f.PostNmsTopN);
        return (nms.SelectMany(k => kb.AsSpan(4 * k, 4).ToArray()).ToArray(), nms.Select(k => ks[k]).ToArray());
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
