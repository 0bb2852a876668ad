#!/usr/bin/python3
"""Regenerates the PyTorch / torchvision reference cases for rules that planted bugs survived (issue 20).

Needs Debian's python3-torch (1.13) and python3-torchvision (0.14); run with Debian's interpreter:
    /usr/bin/python3 tools/gen_rule_fixtures.py
Never needed to build or test: its outputs are committed under the test projects' data folders.

Outputs:
  tests/Nanoq.Detection.Tests/data/torchvision/retinanet_loss.json
      torchvision's RetinaNet label assignment and head loss: Matcher(0.5, 0.4, allow_low_quality_matches=True) on
      box_iou(gt, anchors), then RetinaNetHead.compute_loss (focal loss over every anchor but the BETWEEN_THRESHOLDS
      ones, L1 box loss over the foreground, each divided by the image's foreground count, then averaged over the
      images) and its gradients. Three images: three boxes, one box, none; the boxes are jittered anchors so that
      many anchors fall in [0.4, 0.5). Floats as round-tripping doubles (the Detection fixtures' convention).
  tests/Nanoq.Nn.Tests/data/torch/sgd.json
      torch.optim.SGD, momentum 0 and 0.9, weight decay on one parameter group and none on the other, several steps
      with given gradients: the parameters and momentum buffers after each step. Floats as round-tripping doubles.
  tests/Nanoq.Quant.Tests/data/torch/quantize_ties.json
      torch.quantize_per_tensor / torch.quantize_per_channel (quint8) on inputs x with x · (1/Δ) exactly k + ½ in
      float32 (positive and negative, even and odd k), their ulp neighbours, and ordinary values; codes are
      int_repr() clamped to [0, 2^bits − 1] (clamp(clamp(t, 0, 255), 0, qmax) = clamp(t, 0, qmax) for qmax ≤ 255).
      Floats as hex binary32 bit patterns (the Quant fixtures' convention).
"""
import json, os
import numpy as np
import torch
import torchvision
from torchvision.models.detection import _utils as det_utils
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.image_list import ImageList
from torchvision.models.detection.retinanet import RetinaNetHead
from torchvision.ops import boxes as box_ops

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests")
torch.manual_seed(20)
torch.set_num_threads(1)
assert torchvision.__version__.startswith("0.14"), torchvision.__version__
f32 = np.float32


def flat(t):
    return [float(v) for v in torch.as_tensor(t).detach().reshape(-1).tolist()]


def ints(t):
    return [int(v) for v in torch.as_tensor(t).reshape(-1).tolist()]


def hexes(a):
    a = np.ascontiguousarray(np.asarray(a, dtype=f32).reshape(-1))
    return ["%08x" % v for v in a.view(np.uint32).tolist()]


def write(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, separators=(",", ":"))
        f.write("\n")
    print(os.path.relpath(path, ROOT))


# ---- RetinaNet label assignment and head loss ---------------------------------------------------------------

def retinanet_loss():
    # Nanoq's RetinaNet anchors with AnchorSize 16 (RetinaNetConfig.Small): level l has sizes (16·2^l, int(x·2^⅓),
    # int(x·2^⅔)), ratios (0.5, 1, 2), on a 32×32 input whose P3..P7 grids are 4, 2, 1, 1, 1 (207 anchors).
    sizes = tuple((x, int(x * 2 ** (1.0 / 3)), int(x * 2 ** (2.0 / 3))) for x in [16, 32, 64, 128, 256])
    gen = AnchorGenerator(sizes, ((0.5, 1.0, 2.0),) * 5)
    grids = [(4, 4), (2, 2), (1, 1), (1, 1), (1, 1)]
    images = ImageList(torch.zeros(3, 3, 32, 32), [(32, 32)] * 3)
    anchors = gen(images, [torch.zeros(3, 1, h, w) for h, w in grids])
    a = anchors[0].shape[0]
    k = 3

    def jittered(idx, amount):
        b = anchors[0][idx].clone()
        w, h = b[2] - b[0], b[3] - b[1]
        d = (torch.rand(4) * 2 - 1) * amount * torch.stack([w, h, w, h])
        return (b + d).clamp(0, 32)

    # Boxes near anchors of P3/P4 (jitter ±15%: IoUs around 0.4-0.8 with the anchor, many neighbours in between).
    boxes = [torch.stack([jittered(40, 0.15), jittered(100, 0.15), jittered(130, 0.2)]),
             torch.stack([jittered(70, 0.12), jittered(150, 0.1)]),
             torch.zeros(0, 4)]
    labels = [torch.tensor([0, 2, 1]), torch.tensor([2, 0]), torch.zeros(0, dtype=torch.int64)]
    targets = [dict(boxes=b, labels=l) for b, l in zip(boxes, labels)]

    matcher = det_utils.Matcher(0.5, 0.4, allow_low_quality_matches=True)
    matched = []
    for t, anc in zip(targets, anchors):
        if t["boxes"].numel() == 0:
            matched.append(torch.full((anc.size(0),), -1, dtype=torch.int64))
            continue
        matched.append(matcher(box_ops.box_iou(t["boxes"], anc)))

    # Inputs on a 1/64 grid: exact in float32 and short in json.
    logits = (torch.round(torch.randn(3, a, k) * 2 * 64) / 64).requires_grad_(True)
    deltas = (torch.round(torch.randn(3, a, 4) * 0.5 * 64) / 64).requires_grad_(True)
    head = RetinaNetHead(8, 9, k)
    losses = head.compute_loss(targets, dict(cls_logits=logits, bbox_regression=deltas), anchors, matched)
    (losses["classification"] + losses["bbox_regression"]).backward()

    between = [int((m == det_utils.Matcher.BETWEEN_THRESHOLDS).sum()) for m in matched]
    fg = [int((m >= 0).sum()) for m in matched]
    print("between", between, "foreground", fg)
    assert between[0] >= 10 and between[1] >= 3, between   # the rule under test must have anchors to act on
    assert len(set(fg)) == 3, fg                              # distinct foreground counts, so ÷fg and ÷n both show
    write(os.path.join(ROOT, "Nanoq.Detection.Tests", "data", "torchvision", "retinanet_loss.json"), dict(
        image_size=[32, 32], grids=[list(g) for g in grids], anchor_size=16, num_classes=k, num_anchors=a,
        fg_iou=0.5, bg_iou=0.4, anchors=flat(anchors[0]),
        images=[dict(boxes=flat(t["boxes"]), labels=ints(t["labels"]), matches=ints(m), between=b, foreground=f)
                for t, m, b, f in zip(targets, matched, between, fg)],
        logits=flat(logits), deltas=flat(deltas),
        classification=float(losses["classification"]), bbox_regression=float(losses["bbox_regression"]),
        grad_logits=flat(logits.grad), grad_deltas=flat(deltas.grad)))


# ---- SGD ----------------------------------------------------------------------------------------------------

def sgd():
    cases = []
    for momentum in (0.0, 0.9):
        torch.manual_seed(21)
        a = torch.randn(7).requires_grad_(True)      # weight decay 0.1
        b = torch.randn(2, 3).requires_grad_(True)   # no weight decay (a group with weight_decay 0)
        a0, b0 = a.detach().clone(), b.detach().clone()
        opt = torch.optim.SGD([dict(params=[a]), dict(params=[b], weight_decay=0.0)], lr=0.1, momentum=momentum,
                              weight_decay=0.1)
        steps = []
        for _ in range(3):
            ga, gb = torch.randn(7), torch.randn(2, 3)
            a.grad, b.grad = ga.clone(), gb.clone()
            opt.step()
            st = dict(grad_a=flat(ga), grad_b=flat(gb), a=flat(a), b=flat(b))
            if momentum != 0:
                st["momentum_a"] = flat(opt.state[a]["momentum_buffer"])
                st["momentum_b"] = flat(opt.state[b]["momentum_buffer"])
            steps.append(st)
        cases.append(dict(lr=0.1, momentum=momentum, weight_decay_a=0.1, weight_decay_b=0.0, shape_b=[2, 3],
                          a=flat(a0), b=flat(b0), steps=steps))
    write(os.path.join(ROOT, "Nanoq.Nn.Tests", "data", "torch", "sgd.json"), cases)


# ---- Quantize at exact ties ---------------------------------------------------------------------------------

def exact_ties(scale, ks):
    """Float32 x with float32(x · float32(1/Δ)) == k + ½ exactly, for each k that has one (searched over ulps)."""
    inv = f32(1) / f32(scale)
    out = []
    for k in ks:
        target = f32(k + 0.5)
        x = f32(target / inv)
        for _ in range(64):
            p = f32(x * inv)
            if p == target:
                break
            x = np.nextafter(x, f32(np.inf) if p < target else f32(-np.inf))
        if f32(x * inv) == target:   # some k + ½ lie between two neighbouring products: no float x ties there
            out.append(x)
    assert len(out) >= len(ks) // 2, (scale, len(out), len(ks))
    return out


def probe(scale, zp, qmax):
    ks = list(range(-zp - 1, qmax - zp + 1))        # ties across the whole grid, both signs, even and odd k
    ties = exact_ties(scale, ks)
    vals = []
    for x in ties:
        vals += [np.nextafter(x, f32(-np.inf)), x, np.nextafter(x, f32(np.inf))]
    vals += [f32(j) * f32(scale) for j in range(-zp, qmax - zp + 1, 3)] + [f32(0.0), f32(-0.0)]
    return np.array(vals, dtype=f32), len(ties)


def quantize_ties():
    cases = []
    for bits, scale, zp in [(4, 0.25, 5), (4, 0.1, 7), (8, 0.0371, 128), (4, 0.3, 0), (2, 1.5, 1)]:
        qmax = 2 ** bits - 1
        x, n_ties = probe(scale, zp, qmax)
        q = torch.quantize_per_tensor(torch.from_numpy(x), scale, zp, torch.quint8).int_repr().to(torch.int64)
        codes = q.clamp(0, qmax)
        cases.append(dict(kind="per_tensor", bits=bits, scale=hexes([scale])[0], zero_point=zp, ties=n_ties,
                          x=hexes(x), codes=ints(codes)))
    # Per channel, as conv weights [C_out, C_in, 1, 1]: each channel its own (Δ, z), the probes padded to one length.
    chans = [(0.25, 5), (0.1, 7), (0.3, 0), (0.0625, 15)]
    rows = [probe(s, z, 15)[0] for s, z in chans]
    width = max(len(r) for r in rows)
    rows = [np.concatenate([r, np.zeros(width - len(r), dtype=f32)]) for r in rows]
    w = torch.from_numpy(np.stack(rows))
    scales = torch.tensor([float(f32(s)) for s, _ in chans], dtype=torch.float64)
    zps = torch.tensor([z for _, z in chans], dtype=torch.int64)
    q = torch.quantize_per_channel(w, scales, zps, 0, torch.quint8).int_repr().to(torch.int64).clamp(0, 15)
    cases.append(dict(kind="per_channel", bits=4, shape=[len(chans), width], scales=hexes([s for s, _ in chans]),
                      zero_points=[z for _, z in chans], x=hexes(w.numpy()), codes=ints(q)))
    with open(os.path.join(ROOT, "Nanoq.Quant.Tests", "data", "torch", "quantize_ties.json"), "w") as f:
        json.dump(dict(torch_version=torch.__version__, generator="tools/gen_rule_fixtures.py", cases=cases), f,
                  separators=(",", ":"))
        f.write("\n")
    print("Nanoq.Quant.Tests/data/torch/quantize_ties.json")


retinanet_loss()
sgd()
quantize_ties()
