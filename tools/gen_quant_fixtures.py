#!/usr/bin/python3
"""Regenerates the PyTorch reference fixtures of the Nanoq.Quant tests (DESIGN.md §5, §9).

Needs Debian's python3-torch (1.13); run with Debian's interpreter, not a pyenv one:
    /usr/bin/python3 tools/gen_quant_fixtures.py
Never needed to build or test: its outputs are committed under tests/Nanoq.Quant.Tests/data/torch/.

Every float is stored as the hex of its IEEE-754 binary32 bit pattern ("3f800000" = 1.0), so the
tests compare bit for bit, signed zeros included.

Outputs:
  fake_quant_per_tensor.json   torch.fake_quantize_per_tensor_affine forward and x-gradient, 2/4/8 bits,
                               qparams from MinMaxObserver and hand-picked power-of-two scales (true ties),
                               inputs at rounding ties (j + ½)Δ, one ulp either side, range edges, ±0, far out
  fake_quant_per_channel.json  torch.fake_quantize_per_channel_affine, axis 0 / 1 / last, qparams from
                               PerChannelMinMaxObserver (one channel constant 0, one all positive, one all negative)
  observers.json               MinMaxObserver, PerChannelMinMaxObserver and MovingAverageMinMaxObserver
                               (quint8 dtype, quant_min = 0, quant_max = 2^k − 1, reduce_range False, affine):
                               min_val/max_val after several batches and calculate_qparams()
"""
import json, os
import numpy as np
import torch
from torch.ao.quantization.observer import MinMaxObserver, PerChannelMinMaxObserver, MovingAverageMinMaxObserver

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "Nanoq.Quant.Tests", "data", "torch")
os.makedirs(OUT, exist_ok=True)
torch.manual_seed(0)
torch.set_num_threads(1)
f32 = np.float32


def hexes(t):
    a = np.ascontiguousarray(torch.as_tensor(t, dtype=torch.float32).detach().reshape(-1).numpy(), dtype=f32)
    return ["%08x" % v for v in a.view(np.uint32).tolist()]


def ints(t):
    return [int(v) for v in torch.as_tensor(t).reshape(-1).tolist()]


def ulp_neighbours(v):
    v = f32(v)
    return [np.nextafter(v, f32(-np.inf)), v, np.nextafter(v, f32(np.inf))]


def probe_values(scale, zp, qmax, rng):
    """Inputs that exercise the rounding and the clamp: ties, edges, ±0, far out, random."""
    s = f32(scale)
    inv = f32(1) / s                   # the kernel's float32 reciprocal
    vals = []
    js = list(range(-zp - 2, qmax - zp + 2))
    if len(js) > 40:  # 8 bits: both ends fully, a sample of the middle (keeps the file small)
        js = js[:8] + sorted(rng.choice(js[8:-8], 24, replace=False).tolist()) + js[-8:]
    for j in js:
        vals += ulp_neighbours(f32(j + 0.5) * s)     # (j + ½)Δ rounded to float32
        vals.append(f32(f32(j + 0.5) / inv))         # a value whose product with 1/Δ is near j + ½
        vals.append(f32(j) * s)                       # grid points
    lo, hi = f32(-zp) * s, f32(qmax - zp) * s         # the nudged range lb', ub'
    for e in (lo, hi, lo - s / f32(2), hi + s / f32(2), lo - s, hi + s):
        vals += ulp_neighbours(e)
    vals += [f32(0.0), f32(-0.0), f32(1e6), f32(-1e6), f32(1e-30), f32(-1e-30)]
    span = float(hi - lo) + 4 * float(s)
    vals += [f32(v) for v in rng.uniform(float(lo) - 2 * float(s), float(lo) - 2 * float(s) + span, 120)]
    return np.array(vals, dtype=f32)


def per_tensor_cases():
    rng = np.random.default_rng(1)
    cases = []
    for bits in (2, 4, 8):
        qmax = 2 ** bits - 1
        qps = []
        # qparams from the observer, as a QAT run would produce them
        for (lb, ub) in ((-1.3, 2.7), (0.0, 5.1), (-0.37, 0.0), (0.21, 0.9), (-3.3, -1.1), (-1e-3, 7.7)):
            ob = MinMaxObserver(dtype=torch.quint8, qscheme=torch.per_tensor_affine, quant_min=0, quant_max=qmax)
            ob(torch.tensor([lb, ub], dtype=torch.float32))
            sc, zp = ob.calculate_qparams()
            qps.append((float(sc[0]), int(zp[0])))
        # power-of-two scales: x · (1/Δ) is exact, so (j + ½)Δ are true ties (round half to even decides)
        qps += [(0.125, min(1, qmax)), (0.25, qmax // 2), (2.0 ** -6, qmax), (0.5, 0)]
        for (sc, zp) in qps:
            x = torch.tensor(probe_values(sc, zp, qmax, rng)).requires_grad_(True)
            y = torch.fake_quantize_per_tensor_affine(x, sc, zp, 0, qmax)
            g = torch.randn(x.shape, dtype=torch.float32)
            y.backward(g)
            cases.append(dict(bits=bits, scale=hexes([sc])[0], zero_point=zp,
                              x=hexes(x), y=hexes(y), g=hexes(g), dx=hexes(x.grad)))
    return cases


def per_channel_cases():
    cases = []
    for bits in (2, 4, 8):
        qmax = 2 ** bits - 1
        for (shape, axis) in (((5, 3, 3, 3), 0), ((2, 5, 4), 1), ((7, 6), 1), ((4, 9), 0)):
            c = shape[axis]
            w = torch.randn(shape, dtype=torch.float32)
            # per-channel character: channel 0 all zeros (degenerate), 1 all positive, 2 all negative, rest scaled
            wm = w.movedim(axis, 0)
            wm[0].zero_()
            if c > 1: wm[1] = wm[1].abs() + 0.1
            if c > 2: wm[2] = -wm[2].abs() - 0.05
            for i in range(3, c): wm[i] *= 0.1 * (i + 1)
            ob = PerChannelMinMaxObserver(ch_axis=axis, dtype=torch.quint8, qscheme=torch.per_channel_affine,
                                          quant_min=0, quant_max=qmax)
            ob(w)
            sc, zp = ob.calculate_qparams()
            # append ties and edges of every channel along the last position of the other axes
            x = w.clone()
            xm = x.movedim(axis, 0).reshape(c, -1)
            for ch in range(c):
                s = f32(sc[ch].item()); z = int(zp[ch])
                specials = [f32(j + 0.5) * s for j in range(-z - 1, qmax - z + 1)]
                specials += [f32(-z) * s - s / f32(2), f32(qmax - z) * s + s / f32(2), f32(0), f32(-0.0)]
                for k in range(min(len(specials), xm.shape[1])):
                    xm[ch, k] = float(specials[k])
            x = xm.reshape([shape[axis]] + [shape[i] for i in range(len(shape)) if i != axis]).movedim(0, axis).contiguous()
            x.requires_grad_(True)
            y = torch.fake_quantize_per_channel_affine(x, sc, zp.to(torch.int32), axis, 0, qmax)
            g = torch.randn(x.shape, dtype=torch.float32)
            y.backward(g)
            cases.append(dict(bits=bits, shape=list(shape), axis=axis, scales=hexes(sc), zero_points=ints(zp),
                              x=hexes(x), y=hexes(y), g=hexes(g), dx=hexes(x.grad)))
    return cases


def observer_cases():
    cases = []
    batches_sets = {
        "mixed": [torch.randn(3, 4, 5) * 1.7 + 0.3, torch.randn(2, 4, 5) * 0.5 - 0.8, torch.rand(4, 4, 5) * 3.1],
        "positive": [torch.rand(2, 3, 6) * 2 + 0.5, torch.rand(3, 3, 6) + 0.1],
        "negative": [-torch.rand(2, 3, 6) * 2 - 0.5],
        "zeros": [torch.zeros(2, 3, 4)],
        "constant": [torch.full((2, 3, 4), 0.3)],
        "tiny": [torch.randn(2, 3, 4) * 1e-9],
    }
    for bits in (2, 4, 8):
        qmax = 2 ** bits - 1
        for name, batches in batches_sets.items():
            batches = [b.to(torch.float32) for b in batches]
            obs = {
                "minmax": MinMaxObserver(dtype=torch.quint8, qscheme=torch.per_tensor_affine, quant_min=0, quant_max=qmax),
                "ema": MovingAverageMinMaxObserver(averaging_constant=0.01, dtype=torch.quint8,
                                                   qscheme=torch.per_tensor_affine, quant_min=0, quant_max=qmax),
                "per_channel": PerChannelMinMaxObserver(ch_axis=1, dtype=torch.quint8, qscheme=torch.per_channel_affine,
                                                        quant_min=0, quant_max=qmax),
            }
            for kind, ob in obs.items():
                for b in batches: ob(b)
                sc, zp = ob.calculate_qparams()
                cases.append(dict(kind=kind, data=name, bits=bits, axis=1 if kind == "per_channel" else None,
                                  averaging_constant=0.01 if kind == "ema" else None,
                                  batch_shapes=[list(b.shape) for b in batches], batches=[hexes(b) for b in batches],
                                  min_val=hexes(ob.min_val), max_val=hexes(ob.max_val),
                                  scales=hexes(sc), zero_points=ints(zp)))
    return cases


def write(name, obj):
    with open(os.path.join(OUT, name), "w") as f:
        json.dump(dict(torch_version=torch.__version__, generator="tools/gen_quant_fixtures.py", cases=obj), f,
                  separators=(",", ":"))
        f.write("\n")


write("fake_quant_per_tensor.json", per_tensor_cases())
write("fake_quant_per_channel.json", per_channel_cases())
write("observers.json", observer_cases())
print("wrote", OUT)
