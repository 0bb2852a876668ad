#!/usr/bin/python3
"""PyTorch's time for the training step of `nanoq bench`'s retinanet-train-step and faster-rcnn-train-step: torchvision's
own RetinaNet and FasterRCNN classes in the default CPU configuration (ResNet-18 at width 16, FPN 64, 160-px images,
batch 8, three boxes an image, SGD momentum 0.9, weight decay 1e-4), to put beside Nanoq's in the same sitting.

    MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=17179869184 MALLOC_ARENA_MAX=1 \\
        /usr/bin/python3 benchmarks/peer_detection.py [--threads 2] [--runs 7] [--warmup 2]

The same model as Nanoq's (RetinaNetConfig.Small / FasterRcnnConfig.Small): torchvision's ResNet blocks at stage
widths 16/32/64/128 (NarrowResNet: torchvision fixes 64), BackboneWithFPN, RetinaNet's P6/P7 from C5 (Nanoq's default,
the paper's) and two convs in each head (torchvision's RetinaNetHead has four: the extra two are removed), anchors
16·2^l; Faster R-CNN with P2–P6, RPN top-n 600/300 (training), 128 RoIs an image, a 256-wide TwoMLPHead. Batch norm in
training mode, as Nanoq's float training. torchvision's forward also normalizes and (at scale 1) resizes the images,
≈ 1 % of a step, which Nanoq's workload does not do.
"""
import argparse, statistics, time
import torch
from torch import nn
from torchvision.models.resnet import ResNet, BasicBlock
from torchvision.models.detection import RetinaNet, FasterRCNN
from torchvision.models.detection.backbone_utils import BackboneWithFPN
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.faster_rcnn import TwoMLPHead, FastRCNNPredictor
from torchvision.ops.feature_pyramid_network import LastLevelP6P7, LastLevelMaxPool


class NarrowResNet(ResNet):
    """torchvision's ResNet with stage widths w, 2w, 4w, 8w (torchvision fixes w = 64)."""

    def __init__(self, block, layers, width):
        self._width = width
        super().__init__(block, layers)
        self.conv1 = nn.Conv2d(3, width, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        del self.fc

    def _make_layer(self, block, planes, blocks, stride=1, dilate=False):
        if planes == 64:
            self.inplanes = self._width
        return super()._make_layer(block, planes * self._width // 64, blocks, stride, dilate)


def retinanet():
    body = NarrowResNet(BasicBlock, [2, 2, 2, 2], 16)
    backbone = BackboneWithFPN(body, {"layer2": "0", "layer3": "1", "layer4": "2"}, [32, 64, 128], 64,
                               extra_blocks=LastLevelP6P7(128, 64))
    anchors = AnchorGenerator(tuple((x, int(x * 2 ** (1 / 3)), int(x * 2 ** (2 / 3))) for x in [16, 32, 64, 128, 256]),
                              ((0.5, 1.0, 2.0),) * 5)
    model = RetinaNet(backbone, 3, min_size=160, max_size=266, anchor_generator=anchors)
    for head in (model.head.classification_head, model.head.regression_head):
        head.conv = nn.Sequential(*list(head.conv)[:2])
    return model


def faster_rcnn():
    body = NarrowResNet(BasicBlock, [2, 2, 2, 2], 16)
    backbone = BackboneWithFPN(body, {"layer1": "0", "layer2": "1", "layer3": "2", "layer4": "3"}, [16, 32, 64, 128], 64,
                               extra_blocks=LastLevelMaxPool())
    anchors = AnchorGenerator(((16,), (32,), (64,), (128,), (256,)), ((0.5, 1.0, 2.0),) * 5)
    return FasterRCNN(backbone, None, min_size=160, max_size=266, rpn_anchor_generator=anchors,
                      rpn_pre_nms_top_n_train=600, rpn_post_nms_top_n_train=300, box_batch_size_per_image=128,
                      box_head=TwoMLPHead(64 * 7 * 7, 256), box_predictor=FastRCNNPredictor(256, 4))


def step_of(model, labels_from):
    g = torch.Generator().manual_seed(0)
    images = [torch.rand(3, 160, 160, generator=g) for _ in range(8)]
    targets = []
    for _ in range(8):
        wh = 16 + torch.rand(3, 2, generator=g) * 64
        xy = torch.rand(3, 2, generator=g) * (160 - wh)
        targets.append({"boxes": torch.cat([xy, xy + wh], 1), "labels": torch.arange(3) + labels_from})
    model.train()
    sgd = torch.optim.SGD(model.parameters(), lr=0.002, momentum=0.9, weight_decay=1e-4)

    def step():
        sgd.zero_grad()
        sum(model(images, targets).values()).backward()
        sgd.step()
    return step


def median_ms(fn, runs, warmup):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter(); fn(); times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000, min(times) * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--warmup", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {a.threads} threads")
    # RetinaNet's labels are 0..K-1; Faster R-CNN's 1..K (0 is its background).
    for name, build, first_label in (("retinanet-train-step", retinanet, 0), ("faster-rcnn-train-step", faster_rcnn, 1)):
        med, low = median_ms(step_of(build(), first_label), a.runs, a.warmup)
        print(f"{name:24s} median {med:8.1f} ms   min {low:8.1f} ms")


if __name__ == "__main__":
    main()
