#!/usr/bin/python3
"""Regenerates the reference cases of torchvision's detection input transform (ResizeMode.Torchvision).

Needs Debian's python3-torch (1.13) and python3-torchvision (0.14); run with Debian's interpreter:
    /usr/bin/python3 tools/gen_transform_fixtures.py
Never needed to build or test: its output is committed under the test project's data folder.

Output:
  tests/Nanoq.Coco.Tests/data/torchvision/transform.json
      GeneralizedRCNNTransform(min_size, max_size, ImageNet mean/std) in eval mode (RetinaNet's and Faster R-CNN's
      input transform) on deterministic random uint8 images: normalize in float32, resize with
      F.interpolate(scale_factor=min(min_size/min(h,w), max_size/max(h,w)) as float32, bilinear,
      recompute_scale_factor=True, align_corners=False), pad bottom/right with 0 to multiples of 32.
      Per case: min_size, max_size, the input images ("pixels_hwc": uint8, row-major H, W, RGB — what a decoder
      gives), the batch tensor ("batch", NCHW flattened, "batch_shape"), "image_sizes" (the resized unpadded
      [h, w]), and for each image a postprocess case: "boxes_resized" (xyxy in resized pixels) and "boxes_original"
      = transform.postprocess(...) (scaled by original/resized per axis in float32).
      The cases cover upscaling and downscaling, min_size or max_size binding, a size where the float32 scale
      floors one pixel short (41 · (64/41 as float32) < 64), an identity resize, and a batch of two sizes.
      Floats as round-tripping doubles of the float32 values.
"""
import json, os
import torch
import torchvision
from torchvision.models.detection.transform import GeneralizedRCNNTransform

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests")
OUT = os.path.join(ROOT, "Nanoq.Coco.Tests", "data", "torchvision", "transform.json")
torch.manual_seed(21)
torch.set_num_threads(1)
assert torchvision.__version__.startswith("0.14"), torchvision.__version__
MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]

# (name, min_size, max_size, [(h, w), ...])
CASES = [
    ("up_min_binds", 64, 100, [(37, 53)]),
    ("floor_one_short", 64, 100, [(41, 60)]),
    ("down_max_binds", 32, 40, [(64, 48)]),
    ("tall_max_binds", 50, 80, [(100, 20)]),
    ("square_down", 64, 100, [(160, 160)]),
    ("identity", 40, 100, [(40, 48)]),
    ("batch_two", 40, 64, [(37, 53), (64, 48)]),
]


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def case(name, min_size, max_size, shapes):
    transform = GeneralizedRCNNTransform(min_size, max_size, MEAN, STD).eval()
    pixels = [torch.randint(0, 256, (h, w, 3), dtype=torch.uint8) for h, w in shapes]
    # torchvision's to_tensor: HWC uint8 -> CHW float in [0, 1] by division by 255.
    images = [p.permute(2, 0, 1).contiguous().to(torch.float32).div(255) for p in pixels]
    with torch.no_grad():
        image_list, _ = transform(images)
    sizes = [list(s) for s in image_list.image_sizes]
    post = []
    for (h, w), (rh, rw) in zip(shapes, sizes):
        # Boxes anywhere in the resized image, corners ordered.
        a = torch.rand(4, 2) * torch.tensor([rw, rh], dtype=torch.float32)
        b = torch.rand(4, 2) * torch.tensor([rw, rh], dtype=torch.float32)
        boxes = torch.cat([torch.minimum(a, b), torch.maximum(a, b)], dim=1)
        result = transform.postprocess([{"boxes": boxes.clone()}], [(rh, rw)], [(h, w)])
        post.append({"boxes_resized": flat(boxes), "boxes_original": flat(result[0]["boxes"])})
    print(f"{name}: {shapes} -> {sizes}, batch {list(image_list.tensors.shape)}")
    return {
        "name": name,
        "min_size": min_size,
        "max_size": max_size,
        "images": [{"height": h, "width": w, "pixels_hwc": p.reshape(-1).tolist()} for (h, w), p in zip(shapes, pixels)],
        "image_sizes": sizes,
        "batch_shape": list(image_list.tensors.shape),
        "batch": flat(image_list.tensors),
        "postprocess": post,
    }


def main():
    obj = {
        "generator": "tools/gen_transform_fixtures.py",
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "mean": MEAN,
        "std": STD,
        "size_divisible": 32,
        "cases": [case(*c) for c in CASES],
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(obj, f, separators=(",", ":"))
        f.write("\n")
    print(os.path.relpath(OUT, ROOT))


if __name__ == "__main__":
    main()
