using BenchmarkDotNet.Attributes;
using Nanoq.Kernels;

namespace Nanoq.Benchmarks;

/// <summary>
/// Conv2d 8×64×56×56 → 64, 3×3, padding 1, with bias: the shape of a ResNet-18 layer-1 conv at batch 8, and the
/// one ../shared/tools/peer_bench.py times in PyTorch (<c>conv_8x64x56x56_3x3_fwd_ms</c> and
/// <c>conv_8x64x56x56_3x3_fwd_bwd_ms</c>). <see cref="ForwardBackward"/> is what PyTorch's
/// <c>conv(x).sum().backward()</c> computes: forward, input gradient, weight and bias gradients.
/// <see cref="Winograd"/> picks the path (<see cref="Conv2dKernels.Winograd"/>): the direct one, or F(4 × 4, 3 × 3) — whose
/// GFLOP/s column counts the direct convolution's multiply-adds, so above the FMA peak it says how much work it skipped.
/// </summary>
[Config(typeof(BenchConfig))]
public class ConvBenchmarks
{
    public static readonly Conv2dGeometry Geometry = new(8, 64, 56, 56, 64, 3, stride: 1, padding: 1);

    private float[] _x = [], _w = [], _b = [], _y = [], _dy = [], _dx = [], _dw = [], _db = [];

    [Params(false, true)]
    public bool Winograd { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        Conv2dKernels.Winograd = Winograd;
        var g = Geometry;
        var rng = new Random(2);
        _x = GemmBenchmarks.Fill(rng, g.InputLength);
        _w = GemmBenchmarks.Fill(rng, g.WeightLength);
        _b = GemmBenchmarks.Fill(rng, g.OutChannels);
        _dy = GemmBenchmarks.Fill(rng, g.OutputLength);
        _y = new float[g.OutputLength];
        _dx = new float[g.InputLength];
        _dw = new float[g.WeightLength];
        _db = new float[g.OutChannels];
    }

    [Benchmark]
    public void Forward() => Conv2dKernels.Conv2dForward(Geometry, _x, _w, _b, _y);

    [Benchmark]
    public void BackwardInput() => Conv2dKernels.Conv2dBackwardInput(Geometry, _dy, _w, _dx);

    [Benchmark]
    public void BackwardWeight() => Conv2dKernels.Conv2dBackwardWeight(Geometry, _x, _dy, _dw, _db);

    [Benchmark]
    public void ForwardBackward()
    {
        Conv2dKernels.Conv2dForward(Geometry, _x, _w, _b, _y);
        Conv2dKernels.Conv2dBackwardInput(Geometry, _dy, _w, _dx);
        Conv2dKernels.Conv2dBackwardWeight(Geometry, _x, _dy, _dw, _db);
    }
}
