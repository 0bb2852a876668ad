using BenchmarkDotNet.Attributes;
using Microsoft.ML.OnnxRuntime;
using Nanoq.Kernels;
using Nanoq.Kernels.Integer;
using Nanoq.Quant.Convert;

namespace Nanoq.Integer.Benchmarks;

/// <summary>
/// Conv 8×64×56×56 → 64, 3×3, pad 1 (ResNet-18 layer 1 at batch 8; DESIGN.md §8's shape) in one process:
/// <list type="bullet">
/// <item>Nanoq integer, 8-bit codes: asymmetric per-channel weights, so w_q − z_w spans 9 bits and <c>Auto</c> takes the
/// int16 <c>vpmaddwd</c> path (or VNNI when the weights fit int8 and the CPU has AVX-VNNI — <see cref="Int8NarrowWeights"/>);</item>
/// <item>Nanoq integer, 4-bit codes: the 16-bit-accumulating <c>vpmaddubsw</c> path (<c>Madd16</c>), and the int16 path
/// on the same data for comparison;</item>
/// <item>Nanoq float: <see cref="Conv2dKernels.Conv2dForward"/>;</item>
/// <item>ONNX Runtime 1.31.1 QLinearConv, u8 activations × s8 per-channel symmetric weights (its fast x86 path), two
/// intra-op threads like Nanoq's two cores.</item>
/// </list>
/// All outputs are preallocated; the integer paths allocate nothing per call.
/// </summary>
[Config(typeof(BenchConfig))]
public class IntConvBenchmarks
{
    public static readonly Conv2dGeometry G = new(8, 64, 56, 56, 64, 3, stride: 1, padding: 1);

    private byte[] _x8 = [], _x4 = [], _y = [];
    private int[] _bias = [];
    private IntConv2dWeights _w8 = null!, _w8Narrow = null!, _w4 = null!, _w4Int16 = null!;
    private Requantization _rq8 = null!, _rq4 = null!;
    private float[] _xf = [], _wf = [], _bf = [], _yf = [];
    private InferenceSession _ort = null!;
    private OrtValue _ortX = null!, _ortY = null!;
    private RunOptions _ortRun = null!;
    private string[] _ortIn = [], _ortOut = [];

    [GlobalSetup]
    public void Setup()
    {
        var g = G;
        var rng = new Random(3);
        byte[] Codes(int n, int max) { var a = new byte[n]; for (int i = 0; i < n; i++) a[i] = (byte)rng.Next(max + 1); return a; }
        _x8 = Codes(g.InputLength, 255);
        _x4 = Codes(g.InputLength, 15);
        _y = new byte[g.OutputLength];
        _bias = Enumerable.Range(0, 64).Select(_ => rng.Next(-1000, 1000)).ToArray();
        var zw8 = Enumerable.Range(0, 64).Select(_ => rng.Next(256)).ToArray();
        var zw4 = Enumerable.Range(0, 64).Select(_ => rng.Next(16)).ToArray();
        var w8 = Codes(g.WeightLength, 255);
        var w4 = Codes(g.WeightLength, 15);
        _w8 = IntConv2dWeights.Pack(64, 64, 3, 3, 1, w8, zw8, 8, 8);
        // Weights within ±127 of their zero point (z_w = 128): the int8 paths are valid at 8 bits.
        var w8n = Codes(g.WeightLength, 254).Select(v => (byte)(v + 1)).ToArray();
        _w8Narrow = IntConv2dWeights.Pack(64, 64, 3, 3, 1, w8n, [128], 8, 8,
            System.Runtime.Intrinsics.X86.AvxVnni.IsSupported ? IntConvPath.Vnni : IntConvPath.Int16);
        _w4 = IntConv2dWeights.Pack(64, 64, 3, 3, 1, w4, zw4, 4, 4);
        _w4Int16 = IntConv2dWeights.Pack(64, 64, 3, 3, 1, w4, zw4, 4, 4, IntConvPath.Int16);
        var m = QuantizedMultiplier.ForConv(Enumerable.Repeat(0.01f, 64).ToArray(), 0.02f, 0.5f);
        _rq8 = new Requantization(m.Select(q => q.Multiplier).ToArray(), m.Select(q => q.Shift).ToArray(), 10, 10, 255);
        _rq4 = new Requantization(m.Select(q => q.Multiplier).ToArray(), m.Select(q => q.Shift).ToArray(), 3, 3, 15);

        _xf = _x8.Select(v => v / 255f).ToArray();
        _wf = w8.Select(v => (v - 128) / 128f).ToArray();
        _bf = new float[64];
        _yf = new float[g.OutputLength];

        var ws = w8.Select(v => (sbyte)(v - 128)).ToArray();
        var model = OnnxQLinearConvModel.Build(8, 64, 56, 56, 64, 3, 1, 56, 56, ws, Enumerable.Repeat(0.01f, 64).ToArray(), _bias,
            0.02f, 10, 0.5f, 10);
        var options = new SessionOptions
        {
            IntraOpNumThreads = 2, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        _ort = new InferenceSession(model, options);
        _ortX = OrtValue.CreateTensorValueFromMemory(_x8, [8, 64, 56, 56]);
        _ortY = OrtValue.CreateTensorValueFromMemory(new byte[g.OutputLength], [8, 64, 56, 56]);
        _ortRun = new RunOptions();
        _ortIn = ["x"];
        _ortOut = ["y"];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _ortX.Dispose();
        _ortY.Dispose();
        _ortRun.Dispose();
        _ort.Dispose();
    }

    [Benchmark(Description = "nanoq int8 (auto: int16 vpmaddwd)")]
    public void Int8() => IntConv2d.Forward(G, _x8, 10, _w8, _bias, _rq8, _y);

    [Benchmark(Description = "nanoq int8, |w-z|<=127 (VNNI if present, else int16)")]
    public void Int8NarrowWeights() => IntConv2d.Forward(G, _x8, 10, _w8Narrow, _bias, _rq8, _y);

    /// <summary>Whether <see cref="Int4"/> runs by <see cref="IntConv2dWinograd"/> (while it is enabled).</summary>
    public bool Int4Winograd => IntConv2dWinograd.Suits(G, _w4);

    [Benchmark(Description = "nanoq int4 (auto: Winograd F(2x2,3x3) on vpmaddubsw; Madd16 with NANOQ_INT_WINOGRAD=0)")]
    public void Int4() => IntConv2d.Forward(G, _x4, 3, _w4, _bias, _rq4, _y);

    [Benchmark(Description = "nanoq int4 on the int16 path")]
    public void Int4OnInt16Path() => IntConv2d.Forward(G, _x4, 3, _w4Int16, _bias, _rq4, _y);

    [Benchmark(Baseline = true, Description = "nanoq float32 Conv2dForward")]
    public void Float() => Conv2dKernels.Conv2dForward(G, _xf, _wf, _bf, _yf);

    [Benchmark(Description = "ONNX Runtime 1.31.1 QLinearConv u8s8")]
    public void OnnxRuntime() => _ort.Run(_ortRun, _ortIn, [_ortX], _ortOut, [_ortY]);
}
