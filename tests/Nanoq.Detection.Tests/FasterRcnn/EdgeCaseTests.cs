using Nanoq.Autograd;

namespace Nanoq.Detection.Tests.FasterRcnn;

/// <summary>Empty inputs the detector meets in practice: no positives, no proposals, no boxes.</summary>
public class EdgeCaseTests
{
    [Fact]
    public void Rpn_loss_without_positives_has_zero_box_loss()
    {
        var obj = new Var(Tensor.FromArray([0.5f, -1f, 2f], 3), requiresGrad: true);
        var del = new Var(Tensor.Zeros(3, 4), requiresGrad: true);
        var loss = RpnLoss.Compute(obj, del, [[0, 0, -1]], [new float[12]], [[]], [[0, 1]]);
        Assert.Equal(0f, loss[RpnLoss.Box].Value.ToScalar());
        // mean BCE of logits 0.5, −1 against 0: softplus(0.5), softplus(−1)
        double e = (Math.Log(1 + Math.Exp(0.5)) + Math.Log(1 + Math.Exp(-1))) / 2;
        Assert.Equal(e, loss[RpnLoss.Objectness].Value.ToScalar(), 5);
        loss.Total.Backward();
        Assert.All(del.Grad!.ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Fastrcnn_loss_without_foreground_has_zero_box_loss()
    {
        var logits = new Var(Tensor.FromArray([1f, 2f, 0f, -1f], 2, 2), requiresGrad: true);
        var box = new Var(Tensor.Zeros(2, 8), requiresGrad: true);
        var loss = FastRcnnLoss.Compute(logits, box, [0, 0], Tensor.Zeros(2, 4));
        Assert.Equal(0f, loss[FastRcnnLoss.Box].Value.ToScalar());
        loss.Total.Backward();
        Assert.NotNull(logits.Grad);
    }

    [Fact]
    public void Postprocess_of_an_image_without_proposals_is_empty()
    {
        var p = new RoiHeadPostprocessor();
        var dets = p.Postprocess(Tensor.FromArray([0f, 3f], 1, 2), Tensor.Zeros(1, 8), [[], [10f, 10f, 30f, 40f]], [(50, 50), (50, 50)]);
        Assert.Equal(0, dets[0].Count);
        Assert.Equal(1, dets[1].Count);
        Assert.Equal(0, dets[1].Labels[0]);   // predictor class 1 is label 0
        Assert.Equal([10f, 10f, 30f, 40f], dets[1].Boxes);
    }

    [Fact]
    public void MultiScaleRoiAlign_of_no_boxes_is_empty()
    {
        var pooler = new MultiScaleRoiAlign(7, 7, 2);
        var feats = new[] { new Var(Tensor.Zeros(1, 3, 16, 16)), new Var(Tensor.Zeros(1, 3, 8, 8)) };
        var y = pooler.Forward(feats, [Array.Empty<float>()], [(64, 64)]);
        Assert.Equal(new Shape(0, 3, 7, 7), y.Shape);
    }

    [Fact]
    public void Roi_head_targets_of_an_image_without_ground_truth_are_background()
    {
        var s = RoiHeadTargets.Select([0f, 0f, 10f, 10f, 5f, 5f, 20f, 20f], [], [], BalancedPositiveNegativeSampler.RoiHeads(), new Rng(3));
        Assert.Equal([0, 0], s.Classes);
        Assert.Equal([0, 0], s.MatchedIdxs);
    }

    [Fact]
    public void Rpn_filter_with_fewer_anchors_than_pre_nms_top_n_keeps_them_all()
    {
        var f = new RpnProposalFilter(1000, 1000);
        var boxes = new float[] { 0, 0, 10, 10, 50, 50, 60, 60, 0, 0, 10.5f, 10 };
        var res = f.Filter(boxes, [2f, 1f, 0f], [2, 1], [(100, 100)]);
        // boxes 0 and 2 overlap with IoU 0.95 but sit on different levels: batched NMS keeps both.
        Assert.Equal(3, res[0].Count);
        Assert.Equal(1f / (1f + MathF.Exp(-2f)), res[0].Scores[0]);
    }
}
