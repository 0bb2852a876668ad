#!/usr/bin/python3
"""Regenerates the PyTorch/torchvision reference fixtures of the Nn/Autograd tests (DESIGN.md §9).

Needs Debian's python3-torch and python3-torchvision (`apt-get install python3-torch python3-torchvision`);
run with Debian's interpreter: /usr/bin/python3 tools/gen_torch_fixtures.py. Never needed to build or test:
its outputs are committed under tests/Nanoq.Nn.Tests/data/torch/.

Outputs:
  conv2d.json       conv2d forward and gradients (stride, padding, dilation, groups, depthwise, bias)
  batchnorm.json    batch norm in training mode: forward, gradients, updated running statistics
  <model>.safetensors + <model>.json   a whole torchvision model (random init, random BN statistics,
                    weights rounded to float16 so the file stays small, eval mode), its input and output
"""
import json, os, struct
import torch, torchvision

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "Nanoq.Nn.Tests", "data", "torch")
os.makedirs(OUT, exist_ok=True)
torch.manual_seed(0)
torch.set_num_threads(1)


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def conv_cases():
    cases = []
    configs = [  # n, cin, h, w, cout, k, stride, pad, dil, groups, bias
        (2, 3, 7, 6, 4, 3, 1, 1, 1, 1, True),
        (1, 4, 9, 9, 6, 3, 2, 1, 1, 2, True),
        (2, 5, 8, 7, 3, 1, 1, 0, 1, 1, False),
        (1, 3, 10, 11, 5, 3, 1, 2, 2, 1, True),
        (2, 6, 7, 7, 6, 3, 2, 1, 1, 6, False),   # depthwise
        (1, 4, 6, 5, 8, 5, 3, 2, 1, 1, True),
        (1, 8, 5, 5, 8, 3, 1, 1, 1, 4, True),
    ]
    for (n, cin, h, w, cout, k, s, p, d, g, bias) in configs:
        x = torch.randn(n, cin, h, w, dtype=torch.float64, requires_grad=True)
        wt = torch.randn(cout, cin // g, k, k, dtype=torch.float64, requires_grad=True)
        b = torch.randn(cout, dtype=torch.float64, requires_grad=True) if bias else None
        y = torch.nn.functional.conv2d(x, wt, b, stride=s, padding=p, dilation=d, groups=g)
        gy = torch.randn_like(y)
        y.backward(gy)
        cases.append(dict(n=n, cin=cin, h=h, w=w, cout=cout, k=k, stride=s, pad=p, dilation=d, groups=g,
                          x=flat(x), weight=flat(wt), bias=flat(b) if bias else None,
                          y_shape=list(y.shape), y=flat(y), gy=flat(gy), gx=flat(x.grad), gw=flat(wt.grad),
                          gb=flat(b.grad) if bias else None))
    return cases


def bn_cases():
    cases = []
    for (n, c, h, w) in [(2, 3, 4, 5), (4, 2, 3, 3), (1, 5, 6, 1)]:
        x = (torch.randn(n, c, h, w, dtype=torch.float64) * 2 + 0.5).requires_grad_(True)
        bn = torch.nn.BatchNorm2d(c, momentum=0.1, eps=1e-5).double()
        with torch.no_grad():
            bn.weight.uniform_(0.5, 1.5); bn.bias.uniform_(-0.5, 0.5)
            bn.running_mean.uniform_(-1, 1); bn.running_var.uniform_(0.5, 2)
        rm0, rv0 = bn.running_mean.clone(), bn.running_var.clone()
        bn.train()
        y = bn(x)
        gy = torch.randn_like(y)
        y.backward(gy)
        cases.append(dict(n=n, c=c, h=h, w=w, x=flat(x), gamma=flat(bn.weight), beta=flat(bn.bias),
                          running_mean_before=flat(rm0), running_var_before=flat(rv0),
                          y=flat(y), gy=flat(gy), gx=flat(x.grad), ggamma=flat(bn.weight.grad), gbeta=flat(bn.bias.grad),
                          running_mean_after=flat(bn.running_mean), running_var_after=flat(bn.running_var)))
    return cases


def write_safetensors(path, tensors):
    """The safetensors format by hand (the python package is not in Debian): u64 header length, JSON, data."""
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        dt = {torch.float16: "F16", torch.float32: "F32", torch.int64: "I64"}[t.dtype]
        raw = t.numpy().tobytes()
        header[name] = {"dtype": dt, "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw); off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h))); f.write(h)
        for b in blobs: f.write(b)


def model_fixture(name, model, size):
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5); m.bias.uniform_(-0.2, 0.2)
                m.running_mean.uniform_(-0.2, 0.2); m.running_var.uniform_(0.5, 1.5)
        state = {}
        for k, v in model.state_dict().items():
            if v.dtype == torch.float32:
                h = v.half()
                v.copy_(h.float())  # the model computes with exactly the stored weights
                state[k] = h
            else:
                state[k] = v
    model.eval()
    x = torch.randn(1, 3, size, size)
    with torch.no_grad():
        y = model(x)
    write_safetensors(os.path.join(OUT, f"{name}.safetensors"), state)
    with open(os.path.join(OUT, f"{name}.json"), "w") as f:
        json.dump(dict(input_shape=list(x.shape), input=flat(x), output_shape=list(y.shape), output=flat(y)), f)


with open(os.path.join(OUT, "conv2d.json"), "w") as f:
    json.dump(conv_cases(), f)
with open(os.path.join(OUT, "batchnorm.json"), "w") as f:
    json.dump(bn_cases(), f)
model_fixture("resnet18", torchvision.models.resnet18(), 64)
model_fixture("mobilenet_v2", torchvision.models.mobilenet_v2(), 64)
print("fixtures written to", os.path.normpath(OUT))
