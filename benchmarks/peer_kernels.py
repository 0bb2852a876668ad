#!/usr/bin/env python3
"""PyTorch CPU timings of the kernel benchmarks' shapes (GemmBenchmarks, ConvBenchmarks), to put next to Nanoq's in
the same sitting. ../../shared/tools/peer_bench.py times the conv forward and forward+backward too (and whole
networks); this adds the GEMM shapes and the conv's two gradients separately.

Needs Debian's python3-torch. Run with the allocator settings of peer_bench.py:
  MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=17179869184 MALLOC_ARENA_MAX=1 \\
    /usr/bin/python3 benchmarks/peer_kernels.py [--threads 2] [--json]
Prints the median (and min) of repeated runs after warm-up, in milliseconds, and GFLOP/s at the median.
Note: Debian's torch does matrix products with the generic reference BLAS (torch.__config__ says BLAS_INFO=generic),
so torch.mm is far from this machine's peak; its convolutions go through oneDNN and are fast."""
import argparse, json, statistics, time
import torch

MINS = {}

def median_ms(fn, runs, warmup, key=None):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter(); fn(); times.append(time.perf_counter() - t)
    if key:
        MINS[key] = min(times) * 1000
    return statistics.median(times) * 1000

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    r = {"torch": torch.__version__, "threads": a.threads}

    for m, n, k in [(512, 512, 512), (1024, 1024, 1024), (64, 3136, 576), (256, 196, 2304)]:
        x, y = torch.randn(m, k), torch.randn(k, n)
        out = torch.empty(m, n)
        ms = median_ms(lambda: torch.mm(x, y, out=out), 5 if m * n * k > 1e8 else 10, 2, f"mm_{m}x{n}x{k}_min_ms")
        r[f"mm_{m}x{n}x{k}_ms"] = ms
        r[f"mm_{m}x{n}x{k}_gflops"] = 2.0 * m * n * k / ms / 1e6

    conv = torch.nn.Conv2d(64, 64, 3, padding=1)
    x = torch.randn(8, 64, 56, 56, requires_grad=True)
    flops = 2.0 * 8 * 64 * 56 * 56 * 64 * 9
    with torch.no_grad():
        r["conv_fwd_ms"] = median_ms(lambda: conv(x), 20, 5, "conv_fwd_min_ms")
    y = conv(x)
    g = torch.randn_like(y)
    def bwd_input():
        torch.autograd.grad(y, x, g, retain_graph=True)
    def bwd_weight():
        torch.autograd.grad(y, [conv.weight, conv.bias], g, retain_graph=True)
    r["conv_bwd_input_ms"] = median_ms(bwd_input, 20, 5, "conv_bwd_input_min_ms")
    r["conv_bwd_weight_ms"] = median_ms(bwd_weight, 20, 5, "conv_bwd_weight_min_ms")
    def fwd_bwd():
        conv.zero_grad(); x.grad = None
        conv(x).sum().backward()
    r["conv_fwd_bwd_ms"] = median_ms(fwd_bwd, 20, 5, "conv_fwd_bwd_min_ms")
    r["conv_fwd_gflops"] = flops / r["conv_fwd_ms"] / 1e6
    r["conv_fwd_bwd_gflops"] = 3 * flops / r["conv_fwd_bwd_ms"] / 1e6

    # PyTorch's own int8 convolution (torch.ao.nn.quantized.Conv2d), a second int8 anchor beside ONNX Runtime's
    # QLinearConv for the 4-bit conv of Nanoq.Integer.Benchmarks (same shape, 8x64x56x56 -> 64, 3x3). Debian's torch
    # 1.13 has no fbgemm; its x86 engine is oneDNN (JIT kernels that use AVX512-VNNI where the CPU has it), and QNNPACK
    # (ARM-first). Weights int8 per channel (oneDNN) / per tensor (QNNPACK: per-tensor only in 1.13); activations uint8
    # with zero point 0 for oneDNN (its int8 conv wants symmetric activations) and 128 for QNNPACK.
    import torch.ao.nn.quantized as nnq
    for engine in ("onednn", "qnnpack"):
        if engine not in torch.backends.quantized.supported_engines:
            continue
        torch.backends.quantized.engine = engine
        qconv = nnq.Conv2d(64, 64, 3, padding=1)
        wf = torch.randn(64, 64, 3, 3) * 0.05
        w = (torch.quantize_per_channel(wf, torch.full((64,), 0.002, dtype=torch.double), torch.zeros(64, dtype=torch.long), 0, torch.qint8)
             if engine == "onednn" else torch.quantize_per_tensor(wf, 0.002, 0, torch.qint8))
        qconv.set_weight_bias(w, torch.zeros(64))
        zp = 0 if engine == "onednn" else 128
        qconv.scale, qconv.zero_point = 0.05, zp
        qx = torch.quantize_per_tensor(torch.randn(8, 64, 56, 56), 0.02, zp, torch.quint8)
        r[f"conv_int8_{engine}_ms"] = median_ms(lambda: qconv(qx), 20, 5, f"conv_int8_{engine}_min_ms")

    r.update(MINS)
    if a.json:
        print(json.dumps(r, indent=1))
    else:
        for key, v in r.items():
            print(f"{key:32s} {v:.2f}" if isinstance(v, float) else f"{key:32s} {v}")

main()
