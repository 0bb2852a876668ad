#!/usr/bin/python3
"""Regenerates the torchvision reference fixtures of the Faster R-CNN building blocks (DESIGN.md §6, §9; issue 14).

Needs Debian's python3-torch and python3-torchvision (torchvision 0.14); run with Debian's interpreter:
    /usr/bin/python3 tools/gen_frcnn_fixtures.py
Never needed to build or test: its outputs are committed under tests/*/data/torchvision/.

Every float is a float32 value written as the shortest double that round-trips it, so `(float)double` in C#
recovers the exact float32 torchvision computed with; the few non-finite ones (regression targets of images without
ground truth encode a (0, 0, 0, 0) box: log 0) are the strings "Infinity", "-Infinity", "NaN". Random sampling (BalancedPositiveNegativeSampler uses
torch.randperm, which no other generator reproduces) is made deterministic by recording the sampler's masks and
feeding them back: the fixtures store the sampled indices, the tests pass them to the C# code.

Outputs:
  Nanoq.Tensor.Tests/data/torchvision/roi_align.json
      ops.roi_align forward and input gradient (for a fixed upstream gradient) over aligned false/true x
      sampling_ratio 2/0/-1 x spatial_scale 1/0.5/0.25, RoIs inside, partly outside, wholly outside, inverted and
      degenerate, on the bottom/right border, on both images of the batch; a non-square output; an empty RoI set.
  Nanoq.Detection.Tests/data/torchvision/multiscale_roi_align.json
      MultiScaleRoIAlign(P2-P5, 7x7 and 3x2, sampling 2): inferred scales, LevelMapper levels (boxes exactly at
      the level boundaries 112/224/448 included), pooled output. Feature values follow a formula (exact in
      float32) so the file stays small: x[b, c, i, j] = ((i*31 + j*17 + c*7 + b*13 + level*5) % 23) / 8.
  Nanoq.Detection.Tests/data/torchvision/rpn.json
      concat_box_prediction_layers of per-level head outputs, BoxCoder(1,1,1,1).decode of the deltas against the
      anchors, RegionProposalNetwork.filter_proposals (pre-NMS top-n per level, clip, remove small boxes, score
      threshold, batched NMS 0.7 by level, post-NMS top-n); assign_targets_to_anchors (Matcher 0.7/0.3 with
      low-quality matches; an image without boxes), encode, compute_loss from recorded sampler masks with the
      gradients of both losses.
  Nanoq.Detection.Tests/data/torchvision/roi_heads.json
      RoIHeads.select_training_samples (gt boxes appended, Matcher 0.5/0.5, labels 1..K with 0 background, recorded
      sampler masks of 512 at 25%, BoxCoder(10,10,5,5) targets; an image without boxes), fastrcnn_loss with its
      gradients, postprocess_detections (softmax, class-specific decode, clip, score > 0.05, remove small, NMS 0.5
      per class, top 100).
"""
import json, math, os
import torch
import torchvision
import torch.nn.functional as F
from torchvision.models.detection import _utils as det_utils
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.image_list import ImageList
from torchvision.models.detection.rpn import RegionProposalNetwork, RPNHead, concat_box_prediction_layers
from torchvision.models.detection.roi_heads import RoIHeads, fastrcnn_loss
from torchvision.ops import MultiScaleRoIAlign, roi_align
from collections import OrderedDict

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests")
OUT_TENSOR = os.path.join(ROOT, "Nanoq.Tensor.Tests", "data", "torchvision")
OUT_DET = os.path.join(ROOT, "Nanoq.Detection.Tests", "data", "torchvision")
os.makedirs(OUT_TENSOR, exist_ok=True)
os.makedirs(OUT_DET, exist_ok=True)
torch.manual_seed(0)
torch.set_num_threads(1)
assert torchvision.__version__.startswith("0.14"), torchvision.__version__


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def flat_nonfinite(t):
    """As flat, with inf / -inf / nan written as the strings "Infinity" / "-Infinity" / "NaN" (JSON has no such numbers)."""
    return [v if math.isfinite(v) else ("NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")) for v in flat(t)]


def ints(t):
    return [int(v) for v in t.reshape(-1).tolist()]


def write(folder, name, obj):
    with open(os.path.join(folder, name), "w") as f:
        json.dump(obj, f, separators=(",", ":"))
        f.write("\n")
    print(name)


def random_boxes(n, width, height, min_size=2.0, max_size=60.0):
    x1 = torch.rand(n) * width
    y1 = torch.rand(n) * height
    w = min_size + torch.rand(n) * (max_size - min_size)
    h = min_size + torch.rand(n) * (max_size - min_size)
    return torch.stack([x1, y1, x1 + w, y1 + h], dim=1)


# ---- roi_align ------------------------------------------------------------------------------------------------


def roi_align_fixture():
    n, c, h, w = 2, 3, 9, 11
    x = torch.randn(n, c, h, w)
    cases = []

    def rois_for(scale):
        W, H = w / scale, h / scale  # the image the map was made from
        r = [
            [0, 0.1 * W, 0.2 * H, 0.7 * W, 0.9 * H],
            [1, 0.3 * W, 0.05 * H, 0.95 * W, 0.6 * H],
            [0, -0.3 * W, -0.2 * H, 0.4 * W, 0.5 * H],       # partly outside, top-left
            [1, 0.6 * W, 0.7 * H, 1.3 * W, 1.4 * H],          # partly outside, bottom-right
            [0, 1.2 * W, 1.3 * H, 1.6 * W, 1.9 * H],          # wholly outside
            [1, -3.0 * W, -2.0 * H, -1.5 * W, -1.1 * H],      # wholly outside, negative
            [0, 0.5 * W, 0.5 * H, 0.5 * W, 0.5 * H],          # degenerate (zero size)
            [1, 0.8 * W, 0.6 * H, 0.2 * W, 0.1 * H],          # inverted
            [0, W - 1 / scale, H - 1 / scale, W, H],          # on the bottom/right border
            [1, 0.0, 0.0, W, H],                               # the whole map
            [0, 0.37 / scale, 1.61 / scale, 2.93 / scale, 3.08 / scale],  # small, off-pixel
        ]
        return torch.tensor(r, dtype=torch.float32)

    for aligned in (False, True):
        for sampling in (2, 0, -1):
            for scale in (1.0, 0.5, 0.25):
                for (ph, pw) in ((2, 2),) if not (sampling == 2 and scale == 1.0) else ((2, 2), (3, 2)):
                    rois = rois_for(scale)
                    xi = x.clone().requires_grad_(True)
                    y = roi_align(xi, rois, (ph, pw), spatial_scale=scale, sampling_ratio=sampling, aligned=aligned)
                    g = torch.randn(y.shape)
                    (dx,) = torch.autograd.grad((y * g).sum(), xi)
                    cases.append(dict(name=f"aligned={aligned} sampling={sampling} scale={scale} out={ph}x{pw}",
                                      aligned=aligned, sampling_ratio=sampling, spatial_scale=scale, pooled_h=ph,
                                      pooled_w=pw, rois=flat(rois), grad_output=flat(g), output=flat(y), grad_input=flat(dx)))
    # an empty RoI set
    rois = torch.zeros(0, 5)
    xi = x.clone().requires_grad_(True)
    y = roi_align(xi, rois, (2, 2), spatial_scale=1.0, sampling_ratio=2, aligned=False)
    (dx,) = torch.autograd.grad(y.sum(), xi, allow_unused=True)
    cases.append(dict(name="empty", aligned=False, sampling_ratio=2, spatial_scale=1.0, pooled_h=2, pooled_w=2,
                      rois=[], grad_output=[], output=flat(y), grad_input=flat(dx if dx is not None else torch.zeros_like(x))))
    write(OUT_TENSOR, "roi_align.json", dict(shape=[n, c, h, w], input=flat(x), cases=cases))


# ---- MultiScaleRoIAlign -------------------------------------------------------------------------------------------


def formula_features(n, c, sizes):
    feats = OrderedDict()
    for level, (fh, fw) in enumerate(sizes):
        b = torch.arange(n).view(n, 1, 1, 1)
        ch = torch.arange(c).view(1, c, 1, 1)
        i = torch.arange(fh).view(1, 1, fh, 1)
        j = torch.arange(fw).view(1, 1, 1, fw)
        v = ((i * 31 + j * 17 + ch * 7 + b * 13 + level * 5) % 23).float() / 8.0
        feats[str(level)] = v
    return feats


def multiscale_fixture():
    cases = []
    # image 448 x 512 (h x w), P2-P5 strides 4..32; a second image slightly smaller (the batch is padded)
    image_shapes = [(448, 512), (400, 480)]
    sizes = [(112, 128), (56, 64), (28, 32), (14, 16)]
    n, c = 2, 2
    feats = formula_features(n, c, sizes)
    boxes0 = torch.cat([
        random_boxes(10, 480, 420, 4, 400),
        torch.tensor([[10, 10, 122, 122],      # sqrt(area) = 112: log2(112/224) = -1 exactly -> level 3
                      [0, 0, 224, 224],        # 224 -> level 4
                      [20, 0, 468, 448],       # 448 -> level 5
                      [5, 5, 60, 61],          # small -> clamped to level 2
                      [0, 0, 512, 448],        # large -> clamped to level 5
                      [100, 100, 211.9, 211.9]], dtype=torch.float32),  # just below 112 -> level 2
    ])
    boxes1 = random_boxes(7, 460, 380, 8, 300)
    for out in ((7, 7), (3, 2)):
        pooler = MultiScaleRoIAlign(["0", "1", "2", "3"], output_size=list(out), sampling_ratio=2)
        y = pooler(feats, [boxes0, boxes1], image_shapes)
        levels = pooler.map_levels([boxes0, boxes1])
        cases.append(dict(name=f"P2-P5 {out[0]}x{out[1]}", pooled_h=out[0], pooled_w=out[1], sampling_ratio=2,
                          image_shapes=[list(s) for s in image_shapes], feature_sizes=[list(s) for s in sizes], channels=c,
                          batch=n, boxes=[flat(boxes0), flat(boxes1)], scales=[float(s) for s in pooler.scales],
                          levels=ints(levels), output=flat(y)))
    write(OUT_DET, "multiscale_roi_align.json", dict(cases=cases))


# ---- RPN ----------------------------------------------------------------------------------------------------------


class RecordedSampler:
    """Wraps a real BalancedPositiveNegativeSampler and records its masks (or replays given ones)."""

    def __init__(self, inner):
        self.inner = inner
        self.pos = None
        self.neg = None

    def __call__(self, labels):
        pos, neg = self.inner(labels)
        self.pos, self.neg = pos, neg
        return pos, neg


def rpn_fixture():
    cases = []
    # Three levels, one size each, ratios 0.5/1/2 (A = 3), on a 48 x 64 image (a padded batch of two images).
    anchor_gen = AnchorGenerator(sizes=((16,), (32,), (64,)), aspect_ratios=((0.5, 1.0, 2.0),) * 3)
    image_shapes = [(48, 64), (44, 60)]
    grids = [(12, 16), (6, 8), (3, 4)]
    n = 2
    images = ImageList(torch.zeros(n, 3, 48, 64), image_shapes)
    feats = [torch.zeros(n, 4, gh, gw) for gh, gw in grids]
    anchors = anchor_gen(images, feats)
    A = 3
    objectness = [torch.randn(n, A, gh, gw) * 2 for gh, gw in grids]
    deltas = [torch.randn(n, A * 4, gh, gw) * 0.3 for gh, gw in grids]
    # push a few deltas far out so clipping makes boxes small and the bbox_xform_clip clamp engages
    deltas[0][0, 0:4, 0, 0] = torch.tensor([-30.0, -30.0, 1.0, 1.0])
    deltas[0][1, 4:8, 11, 15] = torch.tensor([40.0, 40.0, 0.0, 0.0])
    deltas[1][0, 2:4, 3, 3] = torch.tensor([9.0, 9.0])
    num_anchors_per_level = [A * gh * gw for gh, gw in grids]
    obj_flat, deltas_flat = concat_box_prediction_layers(objectness, deltas)
    coder = det_utils.BoxCoder(weights=(1.0, 1.0, 1.0, 1.0))
    proposals = coder.decode(deltas_flat.detach(), anchors).view(n, -1, 4)
    assert torch.equal(anchors[0], anchors[1])

    for (pre, post, score_thresh, name) in ((50, 40, 0.0, "pre 50 post 40"), (1000, 1000, 0.0, "all"),
                                            (30, 20, 0.6, "score_thresh 0.6")):
        rpn = RegionProposalNetwork(anchor_gen, RPNHead(4, A), 0.7, 0.3, 256, 0.5,
                                    dict(training=pre, testing=pre), dict(training=post, testing=post), 0.7,
                                    score_thresh=score_thresh)
        rpn.eval()
        boxes, scores = rpn.filter_proposals(proposals, obj_flat.detach(), image_shapes, num_anchors_per_level)
        cases.append(dict(name=name, pre_nms_top_n=pre, post_nms_top_n=post, score_thresh=score_thresh,
                          boxes=[flat(b) for b in boxes], scores=[flat(s) for s in scores]))

    # training targets and loss
    gt = [torch.tensor([[5, 6, 30, 40], [40, 10, 62, 30], [44, 30, 56, 46]], dtype=torch.float32), torch.zeros(0, 4)]
    rpn = RegionProposalNetwork(anchor_gen, RPNHead(4, A), 0.7, 0.3, 256, 0.5,
                                dict(training=2000, testing=1000), dict(training=2000, testing=1000), 0.7)
    rpn.train()
    targets = [dict(boxes=g) for g in gt]
    labels, matched_gt = rpn.assign_targets_to_anchors(anchors, targets)
    regression_targets = coder.encode(matched_gt, anchors)
    rec = RecordedSampler(rpn.fg_bg_sampler)
    rpn.fg_bg_sampler = rec
    obj_leaf = obj_flat.detach().clone().requires_grad_(True)
    del_leaf = deltas_flat.detach().clone().requires_grad_(True)
    obj_loss, box_loss = rpn.compute_loss(obj_leaf, del_leaf, labels, regression_targets)
    g_obj_cls, g_del_cls = torch.autograd.grad(obj_loss, [obj_leaf, del_leaf], allow_unused=True)
    g_obj_box, g_del_box = torch.autograd.grad(box_loss, [obj_leaf, del_leaf], allow_unused=True)
    zeros = lambda t: torch.zeros_like(t)
    write(OUT_DET, "rpn.json", dict(
        image_shapes=[list(s) for s in image_shapes], padded=[48, 64], grids=[list(g) for g in grids],
        anchor_sizes=[16, 32, 64], aspect_ratios=[0.5, 1.0, 2.0], num_anchors_per_level=num_anchors_per_level,
        anchors=flat(anchors[0]),  # the same for every image of the padded batch
        objectness_levels=[flat(o) for o in objectness], deltas_levels=[flat(d) for d in deltas],
        objectness=flat(obj_flat), deltas=flat(deltas_flat),
        nms_thresh=0.7, min_size=1e-3, filter_cases=cases,
        gt_boxes=[flat(g) for g in gt], labels=[flat(l) for l in labels],
        regression_targets=[flat_nonfinite(r) for r in regression_targets],
        sampled_pos=[ints(torch.where(p)[0]) for p in rec.pos], sampled_neg=[ints(torch.where(q)[0]) for q in rec.neg],
        objectness_loss=float(obj_loss), box_loss=float(box_loss),
        objectness_loss_grad=flat(g_obj_cls), box_loss_grad=flat(g_del_box if g_del_box is not None else zeros(del_leaf))))


# ---- RoI heads ----------------------------------------------------------------------------------------------------


def roi_heads_fixture():
    num_classes = 4  # background + 3
    heads = RoIHeads(box_roi_pool=None, box_head=None, box_predictor=None,
                     fg_iou_thresh=0.5, bg_iou_thresh=0.5, batch_size_per_image=32, positive_fraction=0.25,
                     bbox_reg_weights=None, score_thresh=0.05, nms_thresh=0.5, detections_per_img=100)
    # proposals around the gt boxes (jittered) plus background ones
    gt = [torch.tensor([[10, 12, 50, 60], [60, 20, 110, 70], [15, 70, 45, 95]], dtype=torch.float32),
          torch.zeros(0, 4)]
    gt_labels = [torch.tensor([1, 3, 2]), torch.zeros(0, dtype=torch.int64)]
    props = []
    for g in (gt[0], torch.tensor([[20, 20, 60, 60.0]])):
        jitter = g.repeat(12, 1) + torch.randn(12 * g.shape[0], 4) * 6
        jitter[:, 2:] = torch.maximum(jitter[:, 2:], jitter[:, :2] + 1)
        props.append(torch.cat([jitter, random_boxes(30, 100, 90, 4, 40)]))
    targets = [dict(boxes=b, labels=l) for b, l in zip(gt, gt_labels)]
    rec = RecordedSampler(heads.fg_bg_sampler)
    heads.fg_bg_sampler = rec
    s_props, matched_idxs, labels, reg_targets = heads.select_training_samples([p.clone() for p in props], targets)
    # all labels before sampling (for the sampler's masks, which index the proposals + gt list)
    sel = dict(proposals=[flat(p) for p in props], gt_boxes=[flat(g) for g in gt], gt_labels=[ints(l) for l in gt_labels],
               batch_size_per_image=32, positive_fraction=0.25,
               sampled_pos=[ints(torch.where(p)[0]) for p in rec.pos], sampled_neg=[ints(torch.where(q)[0]) for q in rec.neg],
               sampled_proposals=[flat(p) for p in s_props], matched_idxs=[ints(m) for m in matched_idxs],
               labels=[ints(l) for l in labels], regression_targets=[flat_nonfinite(r) for r in reg_targets])

    # fastrcnn_loss on the sampled rows
    total = sum(p.shape[0] for p in s_props)
    logits = (torch.randn(total, num_classes) * 2).requires_grad_(True)
    box_reg = (torch.randn(total, 4 * num_classes) * 0.5).requires_grad_(True)
    cls_loss, box_loss = fastrcnn_loss(logits, box_reg, labels, reg_targets)
    g_logits = torch.autograd.grad(cls_loss, logits)[0]
    g_box = torch.autograd.grad(box_loss, box_reg)[0]
    loss = dict(class_logits=flat(logits), box_regression=flat(box_reg), num_classes=num_classes,
                classification_loss=float(cls_loss), box_loss=float(box_loss),
                classification_grad=flat(g_logits), box_grad=flat(g_box))

    # postprocess_detections
    post_cases = []
    image_shapes = [(90, 110), (80, 100)]
    p_props = [random_boxes(40, 110, 90, 4, 50), random_boxes(25, 100, 80, 4, 50)]
    p_props[0][0] = torch.tensor([100.0, 85.0, 120.0, 100.0])  # clips to a sliver
    rows = sum(p.shape[0] for p in p_props)
    p_logits = torch.randn(rows, num_classes) * 2.5
    p_logits[:5, 1] = 8.0  # near-duplicate confident boxes of class 1 -> NMS
    p_box = torch.randn(rows, 4 * num_classes) * 0.4
    for detections, score in ((100, 0.05), (7, 0.3)):
        heads.detections_per_img = detections
        heads.score_thresh = score
        boxes, scores, labels_out = heads.postprocess_detections(p_logits, p_box, p_props, image_shapes)
        post_cases.append(dict(name=f"top {detections} score>{score}", detections_per_img=detections, score_thresh=score,
                               boxes=[flat(b) for b in boxes], scores=[flat(s) for s in scores], labels=[ints(l) for l in labels_out]))
    post = dict(proposals=[flat(p) for p in p_props], image_shapes=[list(s) for s in image_shapes], class_logits=flat(p_logits),
                box_regression=flat(p_box), num_classes=num_classes, nms_thresh=0.5, cases=post_cases)
    write(OUT_DET, "roi_heads.json", dict(select=sel, loss=loss, postprocess=post))


if __name__ == "__main__":
    roi_align_fixture()
    multiscale_fixture()
    rpn_fixture()
    roi_heads_fixture()
