#!/usr/bin/python3
"""Regenerates the fixtures of torchvision import (issue 15): torchvision detectors whose state dicts Nanoq loads
by torchvision's names, and what torchvision computes with them on the same images.

Needs Debian's python3-torch and python3-torchvision (torchvision 0.14); run with Debian's interpreter:
    /usr/bin/python3 tools/gen_import_fixtures.py
Never needed to build or test: its outputs are committed under tests/Nanoq.Detection.Tests/data/torchvision/import/.

The detectors are torchvision's own classes (RetinaNet, FasterRCNN, BackboneWithFPN, GeneralizedRCNNTransform,
ResNet's BasicBlock/Bottleneck) built with torchvision's code at a width a fixture can hold: the ResNet stages are
narrower than torchvision's fixed 64..512 (NarrowResNet below changes only the channel counts; names, blocks and
forward are torchvision's), the FPN has 32 channels. The state-dict names and the computation are exactly those of
`retinanet_resnet50_fpn` / `fasterrcnn_resnet50_fpn` and their ResNet-18/34 variants, and of their MobileNetV2 variants
built the same way (BackboneWithFPN over mobilenet_v2().features); the full-size names and shapes of those eight
architectures are written too (arch_shapes.json), so the name mapping is checked at full size.

Weights are torchvision's initialization, then made non-degenerate: batch-norm statistics and affine parameters are
random (so no layer is an identity), and the predictors' weights and biases are scaled so that the scores spread over
(0, 1) and detections exist (a freshly initialized RetinaNet scores every anchor 0.01, below the 0.05 threshold).

Outputs (tensors in safetensors: the weights float16 — the references are computed with the weights rounded to it —,
the references float32; the fixture's uint8 images as float32 0..255, CHW):
  retinanet_r18.safetensors / fasterrcnn_r50.safetensors       the state dicts, torchvision's names
  retinanet_r18_ref.safetensors / fasterrcnn_r50_ref.safetensors
      image.{i} [3, H_i, W_i]           the original images (pixel values)
      transformed [N, 3, Hp, Wp]        GeneralizedRCNNTransform's batch (normalized, resized, padded)
      fpn.{k} [N, C, h, w]              the FPN's levels in order (RetinaNet P3-P7, Faster R-CNN P2-P6)
      RetinaNet: cls_logits [N, ΣHWA, K], bbox_regression [N, ΣHWA, 4]        (the head's outputs)
      Faster R-CNN: objectness.{k} [N, A, h, w], rpn_deltas.{k} [N, 4A, h, w]  (the RPN head's outputs),
                    proposals.{i} [P_i, 4], class_logits [ΣP, K+1], box_regression [ΣP, 4(K+1)]
      det.{i}.boxes [D_i, 4], det.{i}.scores [D_i], det.{i}.labels [D_i]       final detections, original pixels
  retinanet_mbv2.safetensors / retinanet_mbv2_ref.safetensors   the same for a RetinaNet on MobileNetV2 (width 0.25)
      built as Nanoq's retinanet_mobilenet_v2_fpn is: BackboneWithFPN over mobilenet_v2().features (mobilenet_fpn)
  retinanet_r18.json / fasterrcnn_r50.json / retinanet_mbv2.json   the configuration (arch, num_classes as torchvision
      counts them, sizes)
  arch_shapes.json   {arch: [[name, shape], ...]} of the eight full-size architectures (num_classes 91)
"""
import json, os, struct
import torch
import torchvision
from torch import nn
from torchvision.models.resnet import ResNet, BasicBlock, Bottleneck
from torchvision.models.detection import RetinaNet, FasterRCNN
from torchvision.models import resnet
from torchvision.models.detection.backbone_utils import BackboneWithFPN, _resnet_fpn_extractor
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.faster_rcnn import TwoMLPHead, FastRCNNPredictor
from torchvision.ops.feature_pyramid_network import LastLevelP6P7, LastLevelMaxPool

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "Nanoq.Detection.Tests", "data", "torchvision", "import")
os.makedirs(OUT, exist_ok=True)
assert torchvision.__version__.startswith("0.14"), torchvision.__version__
torch.manual_seed(0)
MIN_SIZE, MAX_SIZE = 80, 133
FPN = 32  # the fixtures' FPN width
torch.set_num_threads(1)


def save_safetensors(path, tensors, dtype=torch.float32):
    """The safetensors format by hand (u64 header length, JSON header, raw little-endian data), names sorted."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().to(dtype).contiguous()
        data = t.numpy().tobytes()
        header[name] = {"dtype": "F16" if dtype == torch.float16 else "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
    print(os.path.basename(path), offset, "bytes")


def round_to_half(model):
    """Rounds every float parameter and buffer to float16 (the weights file's dtype), so the references are what the
    file's weights compute. The computation stays float32."""
    with torch.no_grad():
        for t in list(model.parameters()) + list(model.buffers()):
            if t.dtype == torch.float32:
                t.copy_(t.half().float())


class NarrowResNet(ResNet):
    """torchvision's ResNet with stage widths w, 2w, 4w, 8w (torchvision fixes w = 64): the same names and forward."""

    def __init__(self, block, layers, width):
        self._width = width
        super().__init__(block, layers, norm_layer=nn.BatchNorm2d)
        self.conv1 = nn.Conv2d(3, width, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        nn.init.kaiming_normal_(self.conv1.weight, mode="fan_out", nonlinearity="relu")
        del self.fc  # a detection backbone: BackboneWithFPN drops avgpool and fc anyway

    def _make_layer(self, block, planes, blocks, stride=1, dilate=False):
        if planes == 64:
            self.inplanes = self._width
        return super()._make_layer(block, planes * self._width // 64, blocks, stride, dilate)


def randomize_batch_norms(model):
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            m.running_mean.copy_(torch.randn(c) * 0.2)
            m.running_var.copy_(torch.rand(c) * 1.5 + 0.5)
            m.weight.data.copy_(torch.rand(c) + 0.5)
            m.bias.data.copy_(torch.randn(c) * 0.2)


def spread(conv_or_linear, run, target_std, bias):
    """Scales a predictor so its outputs have standard deviation target_std around mean `bias`."""
    with torch.no_grad():
        out = run()
        s = out.std().item()
        conv_or_linear.weight.mul_(target_std / max(s, 1e-12))
        conv_or_linear.bias.fill_(bias)


def images():
    """Two uint8 RGB images of different sizes and aspect ratios, smooth plus noise (so resizing matters)."""
    out = []
    for (h, w), seed in (((90, 120), 1), ((140, 100), 2)):
        g = torch.Generator().manual_seed(seed)
        yy, xx = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
        base = torch.stack([128 + 100 * torch.sin(xx / 9 + c) * torch.cos(yy / 13 - c) for c in range(3)])
        noise = torch.randint(-40, 41, (3, h, w), generator=g).float()
        out.append((base + noise).clamp(0, 255).round())
    return out


def body_fpn(block, layers, width, fpn_channels, returned, extra):
    body = NarrowResNet(block, layers, width)
    exp = 4 if block is Bottleneck else 1
    in_list = [width * exp * 2 ** (i - 1) for i in returned]
    return BackboneWithFPN(body, {f"layer{k}": str(v) for v, k in enumerate(returned)}, in_list, fpn_channels, extra_blocks=extra)


def common_refs(model, imgs):
    batch = [x / 255.0 for x in imgs]
    transformed, _ = model.transform(batch)
    features = model.backbone(transformed.tensors)
    refs = {f"image.{i}": x for i, x in enumerate(imgs)}
    refs["transformed"] = transformed.tensors
    for k, f in enumerate(features.values()):
        refs[f"fpn.{k}"] = f
    return batch, transformed, features, refs


def detections(refs, dets):
    for i, d in enumerate(dets):
        refs[f"det.{i}.boxes"] = d["boxes"].reshape(-1, 4)
        refs[f"det.{i}.scores"] = d["scores"]
        refs[f"det.{i}.labels"] = d["labels"].float()
    return [int(d["scores"].numel()) for d in dets]


def retinanet_fixture(stem, arch, backbone, backbone_width):
    """torchvision's RetinaNet on `backbone` (P6/P7 from P5, as its v1), 4 classes, anchors from 16 px."""
    num_classes = 4
    anchors = AnchorGenerator(tuple((x, int(x * 2 ** (1.0 / 3)), int(x * 2 ** (2.0 / 3))) for x in [16, 32, 64, 128, 256]),
                              ((0.5, 1.0, 2.0),) * 5)
    model = RetinaNet(backbone, num_classes, min_size=MIN_SIZE, max_size=MAX_SIZE, anchor_generator=anchors).eval()
    randomize_batch_norms(model)
    imgs = images()
    with torch.no_grad():
        batch, transformed, features, _ = common_refs(model, imgs)
        feats = list(features.values())
        cls_head, reg_head = model.head.classification_head, model.head.regression_head
        spread(cls_head.cls_logits, lambda: model.head(feats)["cls_logits"] - cls_head.cls_logits.bias[0], 2.0, -2.5)
        spread(reg_head.bbox_reg, lambda: model.head(feats)["bbox_regression"] - reg_head.bbox_reg.bias[0], 0.3, 0.0)
        round_to_half(model)
        batch, transformed, features, refs = common_refs(model, imgs)
        head = model.head(list(features.values()))
        refs["cls_logits"] = head["cls_logits"]
        refs["bbox_regression"] = head["bbox_regression"]
        counts = detections(refs, model(batch))
    save_safetensors(os.path.join(OUT, f"{stem}.safetensors"), model.state_dict(), torch.float16)
    save_safetensors(os.path.join(OUT, f"{stem}_ref.safetensors"), refs)
    write_json(f"{stem}.json", {
        "arch": arch, "num_classes": num_classes, "backbone_width": backbone_width, "fpn_channels": FPN,
        "anchor_size": 16, "min_size": MIN_SIZE, "max_size": MAX_SIZE, "image_sizes": [list(s) for s in transformed.image_sizes],
        "detections": counts})


def fasterrcnn_fixture():
    num_classes, fpn, rep = 4, FPN, 64
    backbone = body_fpn(Bottleneck, [3, 4, 6, 3], 8, fpn, [1, 2, 3, 4], LastLevelMaxPool())
    anchors = AnchorGenerator(((16,), (32,), (64,), (128,), (256,)), ((0.5, 1.0, 2.0),) * 5)
    model = FasterRCNN(backbone, None, min_size=MIN_SIZE, max_size=MAX_SIZE, rpn_anchor_generator=anchors,
                       box_head=TwoMLPHead(fpn * 7 * 7, rep), box_predictor=FastRCNNPredictor(rep, num_classes)).eval()
    randomize_batch_norms(model)
    imgs = images()
    with torch.no_grad():
        batch, transformed, features, _ = common_refs(model, imgs)
        feats = list(features.values())
        spread(model.rpn.head.cls_logits, lambda: torch.cat([o.flatten() for o in model.rpn.head(feats)[0]]), 2.0, -1.0)
        spread(model.rpn.head.bbox_pred, lambda: torch.cat([o.flatten() for o in model.rpn.head(feats)[1]]), 0.2, 0.0)
        def rpn_stage():
            """The common references, the RPN head's maps and the proposals of the model as it stands."""
            batch, transformed, features, refs = common_refs(model, imgs)
            obj, deltas = model.rpn.head(list(features.values()))
            for k, (o, d) in enumerate(zip(obj, deltas)):
                refs[f"objectness.{k}"] = o
                refs[f"rpn_deltas.{k}"] = d
            proposals, _ = model.rpn(transformed, features)
            return batch, transformed, features, refs, proposals
        pred = model.roi_heads.box_predictor
        def box_outputs(transformed, features, proposals):
            x = model.roi_heads.box_roi_pool(features, proposals, transformed.image_sizes)
            return pred(model.roi_heads.box_head(x))
        _, transformed, features, _, proposals = rpn_stage()
        spread(pred.cls_score, lambda: box_outputs(transformed, features, proposals)[0], 2.0, 0.0)
        spread(pred.bbox_pred, lambda: box_outputs(transformed, features, proposals)[1], 0.5, 0.0)
        round_to_half(model)
        batch, transformed, features, refs, proposals = rpn_stage()
        for i, p in enumerate(proposals):
            refs[f"proposals.{i}"] = p
        logits, regression = box_outputs(transformed, features, proposals)
        refs["class_logits"] = logits
        refs["box_regression"] = regression
        counts = detections(refs, model(batch))
    save_safetensors(os.path.join(OUT, "fasterrcnn_r50.safetensors"), model.state_dict(), torch.float16)
    save_safetensors(os.path.join(OUT, "fasterrcnn_r50_ref.safetensors"), refs)
    write_json("fasterrcnn_r50.json", {
        "arch": "fasterrcnn_resnet50_fpn", "num_classes": num_classes, "backbone_width": 0.125, "fpn_channels": fpn,
        "anchor_size": 16, "box_head": rep, "min_size": MIN_SIZE, "max_size": MAX_SIZE,
        "image_sizes": [list(s) for s in transformed.image_sizes],
        "proposals": [int(p.shape[0]) for p in proposals], "detections": counts})


def mobilenet_fpn(width, fpn_channels, returned, extra):
    """BackboneWithFPN over torchvision's mobilenet_v2(width_mult).features, returning the ends of the stride-4..32
    stages (features 3, 6, 13, 18): how Nanoq's retinanet/fasterrcnn_mobilenet_v2_fpn are built in torchvision."""
    body = torchvision.models.mobilenet_v2(weights=None, width_mult=width).features
    return BackboneWithFPN(body, {str(i): str(k) for k, i in enumerate(returned)}, [body[i].out_channels for i in returned],
                           fpn_channels, extra_blocks=extra)


def arch_shapes():
    out = {}
    b = mobilenet_fpn(1.0, 256, [6, 13, 18], LastLevelP6P7(256, 256))
    out["retinanet_mobilenet_v2_fpn"] = [[k, list(v.shape)] for k, v in RetinaNet(b, 91).state_dict().items()]
    b = mobilenet_fpn(1.0, 256, [3, 6, 13, 18], LastLevelMaxPool())
    out["fasterrcnn_mobilenet_v2_fpn"] = [[k, list(v.shape)] for k, v in FasterRCNN(b, 91).state_dict().items()]
    for depth in ("resnet18", "resnet34", "resnet50"):
        b = _resnet_fpn_extractor(resnet.__dict__[depth](weights=None), 5, returned_layers=[2, 3, 4],
                                  extra_blocks=LastLevelP6P7(256, 256))
        r = RetinaNet(b, 91)
        out[f"retinanet_{depth}_fpn"] = [[k, list(v.shape)] for k, v in r.state_dict().items()]
        b = _resnet_fpn_extractor(resnet.__dict__[depth](weights=None), 5)
        f = FasterRCNN(b, 91)
        out[f"fasterrcnn_{depth}_fpn"] = [[k, list(v.shape)] for k, v in f.state_dict().items()]
    # The builders themselves (what `retinanet_resnet50_fpn(weights=None, weights_backbone=None)` builds, with
    # nn.BatchNorm2d; FrozenBatchNorm2d, used with pretrained backbones, has the same tensors but num_batches_tracked).
    assert out["retinanet_resnet50_fpn"] == [[k, list(v.shape)] for k, v in torchvision.models.detection.retinanet_resnet50_fpn(weights=None, weights_backbone=None).state_dict().items()]
    assert out["fasterrcnn_resnet50_fpn"] == [[k, list(v.shape)] for k, v in torchvision.models.detection.fasterrcnn_resnet50_fpn(weights=None, weights_backbone=None).state_dict().items()]
    write_json("arch_shapes.json", out)


def write_json(name, obj):
    with open(os.path.join(OUT, name), "w") as f:
        json.dump(obj, f, separators=(",", ":"))
        f.write("\n")
    print(name)


if __name__ == "__main__":
    retinanet_fixture("retinanet_r18", "retinanet_resnet18_fpn",
                      body_fpn(BasicBlock, [2, 2, 2, 2], 8, FPN, [2, 3, 4], LastLevelP6P7(FPN, FPN)), 0.125)
    fasterrcnn_fixture()
    retinanet_fixture("retinanet_mbv2", "retinanet_mobilenet_v2_fpn", mobilenet_fpn(0.25, FPN, [6, 13, 18], LastLevelP6P7(FPN, FPN)), 0.25)
    arch_shapes()
