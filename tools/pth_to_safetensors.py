#!/usr/bin/python3
"""Converts a PyTorch detector checkpoint (.pth) to safetensors for `nanoq import` (issue 15).

Optional: neither the build nor the tests need it. Needs PyTorch (Debian: apt-get install python3-torch) and nothing
else — the safetensors file is written by hand (the format is a u64 header length, a JSON header, raw little-endian
data), so the `safetensors` package is not required.

    /usr/bin/python3 tools/pth_to_safetensors.py model.pth model.safetensors [--half]

The .pth may hold the state dict itself (torch.save(model.state_dict(), ...)), a dict with the state dict under
"model" or "state_dict" (torchvision's reference scripts save {"model": ..., "optimizer": ..., ...}), or a whole
pickled model (then it needs the model's classes importable, e.g. torchvision). Names are kept as they are
(torchvision's: backbone.body.*, backbone.fpn.*, head.* / rpn.* / roi_heads.*); a "module." prefix that
DistributedDataParallel adds is removed. --half stores floats as F16 (half the file; Nanoq reads it back to float32).
"""
import argparse, json, struct, sys

import torch


def state_dict_of(obj):
    if isinstance(obj, torch.nn.Module):
        return obj.state_dict()
    if isinstance(obj, dict):
        for key in ("model", "state_dict", "model_state_dict"):
            if key in obj and isinstance(obj[key], (dict, torch.nn.Module)):
                return state_dict_of(obj[key])
        if all(isinstance(v, torch.Tensor) for v in obj.values()):
            return obj
    raise SystemExit("pth_to_safetensors: found no state dict (a dict of tensors, or one under 'model' / 'state_dict')")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("pth")
    p.add_argument("out")
    p.add_argument("--half", action="store_true", help="store floats as F16")
    a = p.parse_args()
    sd = state_dict_of(torch.load(a.pth, map_location="cpu"))
    dtypes = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64", torch.int64: "I64"}
    header, blobs, offset = {}, [], 0
    for name in sorted(sd):
        t = sd[name].detach().cpu().contiguous()
        if t.is_floating_point():
            t = t.to(torch.float16 if a.half else torch.float32)
        if t.dtype not in dtypes:
            raise SystemExit(f"pth_to_safetensors: '{name}' has dtype {t.dtype}, which is not converted")
        data = t.numpy().tobytes() if t.dtype != torch.bfloat16 else t.view(torch.int16).numpy().tobytes()
        key = name[len("module."):] if name.startswith("module.") else name
        header[key] = {"dtype": dtypes[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(a.out, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
    print(f"{a.out}: {len(header)} tensors, {offset / 1e6:.1f} MB", file=sys.stderr)


if __name__ == "__main__":
    main()
