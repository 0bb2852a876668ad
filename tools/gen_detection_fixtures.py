#!/usr/bin/python3
"""Regenerates the torchvision reference fixtures of the detection utilities (DESIGN.md §6, §9).

Needs Debian's python3-torch and python3-torchvision (torchvision 0.14); run with Debian's interpreter:
    /usr/bin/python3 tools/gen_detection_fixtures.py
Never needed to build or test: its outputs are committed under tests/Nanoq.Detection.Tests/data/torchvision/.

Every float is a float32 value written as the shortest double that round-trips it, so `(float)double`
in C# recovers the exact float32 that torchvision computed with.

Outputs:
  anchors.json      AnchorGenerator: cell (base) anchors and all anchors over FPN levels (RetinaNet P3-P7 on a
                    96x128 image, a small-input configuration, and one with odd ratios / non-integer sizes)
  box_coder.json    BoxCoder encode_single / decode_single, weights (1,1,1,1) and (10,10,5,5), deltas large enough
                    to hit the bbox_xform_clip clamp, and a decode with 4*K codes per box
  box_ops.json      box_iou, box_area, clip_boxes_to_image, remove_small_boxes, box_convert xyxy<->cxcywh
  matcher.json      Matcher(0.5, 0.4) with and without allow_low_quality_matches, including exact ties
  nms.json          nms and batched_nms: random boxes, exact score ties, boxes exactly at the IoU threshold,
                    degenerate boxes, both batched_nms paths (coordinate trick for <= 1000 boxes, per class above)
  topk.json         torch.topk on thresholded scores (no ties: torch.topk does not specify the order of ties)
  focal_loss.json   torchvision.ops.sigmoid_focal_loss (alpha 0.25, gamma 2): reduction none / sum / mean and the
                    gradient of the summed loss (the loss op lives elsewhere; only the reference values are here)
"""
import json, math, os
import torch
import torchvision
from torchvision.models.detection._utils import BoxCoder, Matcher
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.image_list import ImageList
from torchvision.ops import boxes as box_ops
from torchvision.ops import sigmoid_focal_loss

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "Nanoq.Detection.Tests", "data",
                   "torchvision")
os.makedirs(OUT, exist_ok=True)
torch.manual_seed(0)
torch.set_num_threads(1)
assert torchvision.__version__.startswith("0.14"), torchvision.__version__


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def ints(t):
    return [int(v) for v in t.reshape(-1).tolist()]


def write(name, obj):
    with open(os.path.join(OUT, name), "w") as f:
        json.dump(obj, f, separators=(",", ":"))
        f.write("\n")
    print(name)


def random_boxes(n, width, height, min_size=1.0, max_size=60.0):
    """Float boxes (x1, y1, x2, y2) with positive area, corners inside [0, width] x [0, height] (roughly)."""
    x1 = torch.rand(n) * width
    y1 = torch.rand(n) * height
    w = min_size + torch.rand(n) * (max_size - min_size)
    h = min_size + torch.rand(n) * (max_size - min_size)
    return torch.stack([x1, y1, x1 + w, y1 + h], dim=1)


def integer_boxes(n, width, height, max_size=40):
    """Integer-valued boxes: IoU values repeat exactly, so ties and exact thresholds happen often."""
    x1 = torch.randint(0, width, (n,)).float()
    y1 = torch.randint(0, height, (n,)).float()
    w = torch.randint(1, max_size, (n,)).float()
    h = torch.randint(1, max_size, (n,)).float()
    return torch.stack([x1, y1, x1 + w, y1 + h], dim=1)


# ---- anchors ------------------------------------------------------------------------------------------------

def anchors():
    cases = []

    def case(name, sizes, ratios, image_hw, grids):
        gen = AnchorGenerator(sizes, ratios)
        images = ImageList(torch.zeros(1, 3, *image_hw), [image_hw])
        feats = [torch.zeros(1, 1, gh, gw) for (gh, gw) in grids]
        all_anchors = gen(images, feats)[0]
        cases.append(dict(name=name, sizes=[[float(s) for s in lv] for lv in sizes],
                          aspect_ratios=[[float(r) for r in lv] for lv in ratios],
                          image_size=list(image_hw), grid_sizes=[list(g) for g in grids],
                          num_anchors_per_location=gen.num_anchors_per_location(),
                          cell_anchors=[flat(c) for c in gen.cell_anchors], anchors=flat(all_anchors)))

    # torchvision's RetinaNet default (retinanet.py, _default_anchorgen), P3-P7 of a ResNet on a 96x128 image:
    # feature maps 12x16, 6x8, 3x4, then P6 = stride-2 conv of 3x4 -> 2x2, P7 -> 1x1. Strides are image // grid.
    retina = tuple((x, int(x * 2 ** (1.0 / 3)), int(x * 2 ** (2.0 / 3))) for x in [32, 64, 128, 256, 512])
    case("retinanet_96x128", retina, ((0.5, 1.0, 2.0),) * 5, (96, 128), [(12, 16), (6, 8), (3, 4), (2, 2), (1, 1)])
    small = tuple((x, int(x * 2 ** (1.0 / 3)), int(x * 2 ** (2.0 / 3))) for x in [8, 16, 32, 64, 128])
    case("retinanet_small_64x80", small, ((0.5, 1.0, 2.0),) * 5, (64, 80), [(8, 10), (4, 5), (2, 3), (1, 2), (1, 1)])
    case("odd_ratios", ((10.0, 13.5), (21.0,)), ((0.25, 1.0, 3.0), (0.7, 1.3)), (50, 70), [(7, 9), (4, 5)])
    write("anchors.json", dict(cases=cases))


# ---- box coder ----------------------------------------------------------------------------------------------

def box_coder():
    cases = []
    for weights in [(1.0, 1.0, 1.0, 1.0), (10.0, 10.0, 5.0, 5.0)]:
        coder = BoxCoder(weights)
        n = 64
        anchors_ = random_boxes(n, 200, 150, 4, 120)
        gt = random_boxes(n, 200, 150, 2, 150)
        targets = coder.encode_single(gt, anchors_)
        # deltas: small ones, the encoded targets themselves, and large dw/dh that hit the clamp
        # (|d| / weight > log(1000/16) ~= 4.135) on both sides
        deltas = torch.randn(n, 4) * torch.tensor(weights) * 0.5
        deltas[:8, 2:] = torch.tensor([[6.0, 9.0], [-6.0, 20.0], [4.2, -30.0], [50.0, 50.0],
                                       [4.1, 4.14], [4.135, 4.136], [-8.0, -8.0], [3.0, 100.0]]) * weights[2]
        decoded = coder.decode_single(deltas, anchors_)
        roundtrip = coder.decode_single(targets, anchors_)
        # 4*K codes per box (class-specific regression), K = 3
        deltas_k = torch.randn(16, 12) * 0.7
        decoded_k = coder.decode_single(deltas_k, anchors_[:16])
        cases.append(dict(weights=list(weights), bbox_xform_clip=coder.bbox_xform_clip,
                          anchors=flat(anchors_), gt=flat(gt), targets=flat(targets),
                          deltas=flat(deltas), decoded=flat(decoded), roundtrip=flat(roundtrip),
                          deltas_k=flat(deltas_k), decoded_k=flat(decoded_k)))
    write("box_coder.json", dict(cases=cases))


# ---- box ops ------------------------------------------------------------------------------------------------

def box_ops_fixture():
    a = random_boxes(40, 100, 80, 1, 50)
    b = random_boxes(30, 100, 80, 1, 50)
    # special pairs: identical, contained, touching edges (zero intersection), disjoint
    b[0] = a[0]
    b[1] = torch.tensor([a[1, 0] + 1, a[1, 1] + 1, a[1, 0] + 2, a[1, 1] + 2])
    b[2] = torch.tensor([a[2, 2], a[2, 1], a[2, 2] + 5, a[2, 3]])
    b[3] = torch.tensor([500.0, 500.0, 510.0, 520.0])
    ia = integer_boxes(25, 30, 30, 12)
    ib = integer_boxes(20, 30, 30, 12)
    clip_in = random_boxes(50, 120, 90, 1, 80) - 20.0  # crosses all four image edges
    small_in = random_boxes(50, 100, 100, 0.0, 6.0)
    small_in[0] = torch.tensor([0.0, 0.0, 2.0, 5.0])   # exactly min_size wide: kept (>=)
    cx = random_boxes(20, 100, 100, 0.5, 40)
    write("box_ops.json", dict(
        iou=[dict(boxes1=flat(a), boxes2=flat(b), iou=flat(box_ops.box_iou(a, b))),
             dict(boxes1=flat(ia), boxes2=flat(ib), iou=flat(box_ops.box_iou(ia, ib)))],
        area=dict(boxes=flat(a), area=flat(box_ops.box_area(a))),
        clip=dict(boxes=flat(clip_in), height=90, width=120, clipped=flat(box_ops.clip_boxes_to_image(clip_in, (90, 120)))),
        remove_small=dict(boxes=flat(small_in), min_size=2.0, keep=ints(box_ops.remove_small_boxes(small_in, 2.0))),
        convert=dict(xyxy=flat(cx), cxcywh=flat(box_ops.box_convert(cx, "xyxy", "cxcywh")),
                     back=flat(box_ops.box_convert(box_ops.box_convert(cx, "xyxy", "cxcywh"), "cxcywh", "xyxy")))))


# ---- matcher ------------------------------------------------------------------------------------------------

def matcher():
    cases = []

    def case(name, gt, anchors_):
        q = box_ops.box_iou(gt, anchors_)
        m1 = Matcher(0.5, 0.4, allow_low_quality_matches=True)(q)
        m2 = Matcher(0.5, 0.4, allow_low_quality_matches=False)(q)
        cases.append(dict(name=name, num_gt=gt.shape[0], num_anchors=anchors_.shape[0], gt=flat(gt),
                          anchors=flat(anchors_), quality=flat(q),
                          high=0.5, low=0.4, matches_low_quality=ints(m1), matches=ints(m2)))

    gen = AnchorGenerator(((16, 20, 25), (32, 40, 50)), ((0.5, 1.0, 2.0),) * 2)
    images = ImageList(torch.zeros(1, 3, 64, 64), [(64, 64)])
    anc = gen(images, [torch.zeros(1, 1, 8, 8), torch.zeros(1, 1, 4, 4)])[0]
    gt = random_boxes(6, 56, 56, 6, 40)
    case("anchors_random_gt", gt, anc)
    # ties: a duplicated gt (argmax over gt picks the first), gt boxes equal to anchors (IoU 1 ties with the
    # duplicate anchors), a tiny gt whose best IoU is below 0.4 (low-quality match), a gt outside every
    # anchor (best IoU 0: torchvision restores every zero-overlap anchor to its argmax gt)
    gt2 = torch.cat([gt[:2], gt[:1], anc[100:101], anc[200:201], torch.tensor([[30.0, 30.0, 33.0, 32.0]])])
    case("ties_and_low_quality", gt2, torch.cat([anc, anc[100:101]]))
    gt3 = torch.cat([gt[:3], torch.tensor([[900.0, 900.0, 950.0, 960.0]])])
    case("gt_outside_all_anchors", gt3, anc)
    ia = integer_boxes(60, 40, 40, 16)
    ig = integer_boxes(5, 40, 40, 16)
    case("integer_boxes", ig, ia)
    write("matcher.json", dict(cases=cases))


# ---- nms ----------------------------------------------------------------------------------------------------

def nms_fixture():
    single, batched = [], []

    def add_single(name, boxes, scores, thr):
        keep = box_ops.nms(boxes, scores, thr)
        single.append(dict(name=name, boxes=flat(boxes), scores=flat(scores), iou_threshold=thr, keep=ints(keep)))

    def add_batched(name, boxes, scores, idxs, thr):
        keep = box_ops.batched_nms(boxes, scores, idxs, thr)
        # batched_nms takes the coordinate trick (offset boxes by class, one nms) up to 1000 boxes and a per-class
        # loop above. Both keep the same boxes here, but the loop ends with an unstable sort (torch's default sort
        # is not stable past a few elements), so its order among exactly equal scores is unspecified; the
        # coordinate trick's order is the stable one (nms's kernel sorts stably): score descending, then index.
        trick = box_ops._batched_nms_coordinate_trick(boxes, scores, idxs, thr)
        vanilla = box_ops._batched_nms_vanilla(boxes, scores, idxs, thr)
        assert sorted(trick.tolist()) == sorted(vanilla.tolist()) == sorted(keep.tolist()), name
        batched.append(dict(name=name, boxes=flat(boxes), scores=flat(scores), idxs=ints(idxs),
                            iou_threshold=thr, keep=ints(keep), keep_stable=ints(trick)))

    for n, thr in [(30, 0.5), (200, 0.3), (200, 0.5), (500, 0.7)]:
        add_single(f"random_{n}_{thr}", random_boxes(n, 200, 200, 5, 80), torch.rand(n), thr)
    # exact score ties: scores on a grid of 5 values, integer boxes (many exactly equal IoUs)
    for n, thr in [(100, 0.5), (300, 0.4)]:
        add_single(f"ties_{n}_{thr}", integer_boxes(n, 60, 60, 25), torch.randint(0, 5, (n,)).float() / 4, thr)
    # all scores equal: the order is the stable one (lower index first)
    add_single("all_equal_scores", integer_boxes(80, 50, 50, 20), torch.full((80,), 0.5), 0.5)
    # boxes exactly at the threshold: IoU exactly 0.5 (kept: suppression needs IoU > threshold), and IoU
    # 3/10 against threshold 0.3: float32(0.3) > double 0.3, so torchvision suppresses it
    at = torch.tensor([[0, 0, 2, 1], [0, 0, 1, 1], [10, 10, 14, 12], [10, 10, 12, 12], [10, 10, 13.999, 12],
                       [20, 0, 30, 1], [20, 0, 23, 1], [40, 0, 50, 10], [40, 0, 50, 5], [40, 0, 50, 5.0001]],
                      dtype=torch.float32)
    s = torch.tensor([0.9, 0.8, 0.7, 0.6, 0.5, 0.95, 0.85, 0.4, 0.3, 0.2])
    add_single("exact_threshold_0.5", at, s, 0.5)
    add_single("exact_threshold_0.3", at, s, 0.3)
    # degenerate (zero-area) boxes: IoU 0/0 = NaN never suppresses
    deg = torch.cat([integer_boxes(20, 20, 20, 10), torch.tensor([[5.0, 5.0, 5.0, 9.0], [5.0, 5.0, 5.0, 9.0]])])
    add_single("degenerate", deg, torch.rand(22), 0.5)
    add_single("empty", torch.zeros(0, 4), torch.zeros(0), 0.5)
    # large: one detector's worth of candidates (5 levels x 1000)
    add_single("random_3000_0.5", random_boxes(3000, 400, 400, 8, 120), torch.rand(3000), 0.5)

    # batched: <= 1000 boxes take the coordinate-trick path, > 1000 the per-class loop
    for n, ncls, thr in [(100, 3, 0.5), (400, 10, 0.5), (1500, 5, 0.5), (2500, 20, 0.6)]:
        add_batched(f"random_{n}_{ncls}cls_{thr}", random_boxes(n, 300, 300, 5, 100), torch.rand(n),
                    torch.randint(0, ncls, (n,)), thr)
    for n, ncls in [(150, 3), (1200, 4)]:
        add_batched(f"ties_{n}_{ncls}cls", integer_boxes(n, 60, 60, 25), torch.randint(0, 4, (n,)).float() / 3,
                    torch.randint(0, ncls, (n,)), 0.5)
    # same boxes in two classes: nothing suppressed across classes; non-contiguous class ids
    b = integer_boxes(30, 30, 30, 15)
    add_batched("cross_class", torch.cat([b, b]), torch.cat([torch.rand(30), torch.rand(30)]),
                torch.cat([torch.full((30,), 7), torch.full((30,), 2)]), 0.5)
    add_batched("exact_threshold", at, s, torch.tensor([0, 0, 1, 1, 1, 2, 2, 3, 3, 3]), 0.5)
    write("nms.json", dict(nms=single, batched_nms=batched))


# ---- topk ---------------------------------------------------------------------------------------------------

def topk():
    cases = []
    for n, k, thr in [(500, 100, 0.05), (2000, 1000, 0.05), (300, 1000, 0.5), (50, 10, -1.0)]:
        scores = torch.rand(n)
        while scores.unique().numel() != n:  # distinct scores: the order of torch.topk's ties is unspecified
            scores = torch.rand(n)
        idxs = torch.where(scores > thr)[0]
        top_scores, top = scores[idxs].topk(min(k, idxs.numel()))
        cases.append(dict(scores=flat(scores), k=k, score_threshold=thr, indices=ints(idxs[top]),
                          top_scores=flat(top_scores)))
    write("topk.json", dict(cases=cases))


# ---- focal loss ---------------------------------------------------------------------------------------------

def focal_loss():
    cases = []
    for shape in [(6, 5), (40, 3)]:
        x = (torch.randn(*shape) * 3).requires_grad_(True)
        x.data[0, 0], x.data[0, 1] = 30.0, -30.0   # saturated logits
        t = (torch.rand(*shape) < 0.3).float()
        none = sigmoid_focal_loss(x, t, alpha=0.25, gamma=2, reduction="none")
        total = sigmoid_focal_loss(x, t, alpha=0.25, gamma=2, reduction="sum")
        mean = sigmoid_focal_loss(x, t, alpha=0.25, gamma=2, reduction="mean")
        total.backward()
        cases.append(dict(shape=list(shape), alpha=0.25, gamma=2.0, inputs=flat(x), targets=flat(t),
                          none=flat(none), sum=float(total), mean=float(mean), grad_sum=flat(x.grad)))
    write("focal_loss.json", dict(cases=cases))


anchors()
box_coder()
box_ops_fixture()
matcher()
nms_fixture()
topk()
focal_loss()
