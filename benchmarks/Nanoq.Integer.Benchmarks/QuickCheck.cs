using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using Nanoq.Kernels;
using Nanoq.Kernels.Integer;
using Nanoq.Quant.Convert;

namespace Nanoq.Integer.Benchmarks;

/// <summary>
/// <c>--check</c>: a fast sanity run outside BenchmarkDotNet. Cross-checks Nanoq's 8-bit conv against ONNX Runtime's
/// QLinearConv on identical data (weights with z_w = 128 are ORT's symmetric s8 weights shifted; ORT requantizes in
/// float, Nanoq in fixed point, so codes may differ by one step at rounding ties), then prints Stopwatch medians.
/// </summary>
internal static class QuickCheck
{
    public static void Run(int repeats)
    {
        var g = IntConvBenchmarks.G;
        var rng = new Random(4);
        var x = new byte[g.InputLength];
        for (int i = 0; i < x.Length; i++) x[i] = (byte)rng.Next(256);
        var w = new byte[g.WeightLength];
        for (int i = 0; i < w.Length; i++) w[i] = (byte)rng.Next(256);
        var bias = Enumerable.Range(0, 64).Select(_ => rng.Next(-1000, 1000)).ToArray();
        var scales = Enumerable.Range(0, 64).Select(_ => 0.005f + 0.01f * (float)rng.NextDouble()).ToArray();
        var m = QuantizedMultiplier.ForConv(scales, 0.02f, 0.5f);
        var rq = new Requantization(m.Select(q => q.Multiplier).ToArray(), m.Select(q => q.Shift).ToArray(), 10, 0, 255);
        var weights = IntConv2dWeights.Pack(64, 64, 3, 3, 1, w, [128], 8, 8);
        var ours = new byte[g.OutputLength];
        IntConv2d.Forward(g, x, 10, weights, bias, rq, ours);

        var model = OnnxQLinearConvModel.Build(8, 64, 56, 56, 64, 3, 1, 56, 56, w.Select(v => (sbyte)(v - 128)).ToArray(), scales, bias,
            0.02f, 10, 0.5f, 10);
        using var session = new InferenceSession(model, new SessionOptions { IntraOpNumThreads = 2, InterOpNumThreads = 1 });
        var theirs = new byte[g.OutputLength];
        using (var xv = OrtValue.CreateTensorValueFromMemory(x, [8, 64, 56, 56]))
        using (var yv = OrtValue.CreateTensorValueFromMemory(theirs, [8, 64, 56, 56]))
        using (var ro = new RunOptions())
            session.Run(ro, ["x"], [xv], ["y"], [yv]);
        int differ = 0, maxDiff = 0;
        for (int i = 0; i < ours.Length; i++)
        {
            int d = Math.Abs(ours[i] - theirs[i]);
            if (d != 0) differ++;
            maxDiff = Math.Max(maxDiff, d);
        }
        Console.WriteLine($"nanoq vs ONNX Runtime, 8-bit conv codes: {differ} of {ours.Length} differ ({100.0 * differ / ours.Length:F4}%), max |diff| = {maxDiff}");
        // The arbiter: the exact int64 scalar loop. Nanoq must equal it; ORT may differ by a rounding step (it requantizes
        // in float) — or by more where its AVX2 u8s8 kernel (vpmaddubsw without VNNI) saturates a pair sum in int16.
        var exact = new byte[g.OutputLength];
        IntConv2dReference.Forward(g, x, 10, w, [128], bias, rq, exact);
        Console.WriteLine($"nanoq vs the scalar reference: {Differ(ours, exact)}; ONNX Runtime vs the scalar reference: {Differ(theirs, exact)} (Simd.Level {Simd.Level})");

        var bench = new IntConvBenchmarks();
        bench.Setup();
        CoreToCoreLatency.Print("before");
        Time("int8 (auto)", bench.Int8, repeats);
        Time("int8 narrow weights", bench.Int8NarrowWeights, repeats);
        Time("int4 (auto)", bench.Int4, repeats);
        Console.WriteLine($"  (the 4-bit conv runs by Winograd F(2x2, 3x3): {bench.Int4Winograd}; the direct path next)");
        IntConv2dWinograd.Enabled = false;
        Time("int4 direct", bench.Int4, repeats);
        IntConv2dWinograd.Enabled = true;
        Time("int4 on int16 path", bench.Int4OnInt16Path, repeats);
        Time("float32", bench.Float, repeats);
        Time("ORT QLinearConv", bench.OnnxRuntime, repeats);
        CoreToCoreLatency.Print("after");
        bench.Cleanup();
    }

    private static void Time(string name, Action run, int repeats)
    {
        // At least 3 s of warm-up (and 5 runs): .NET compiles a method's final (tier-1) code only after it has run a
        // while, and with 5 runs alone the float conv was timed on its first-tier code (17 ms against 10 ms warm).
        var warm = Stopwatch.StartNew();
        for (int i = 0; i < 5 || warm.Elapsed.TotalSeconds < 3; i++) run();
        var t = new double[repeats];
        for (int i = 0; i < repeats; i++)
        {
            var sw = Stopwatch.StartNew();
            run();
            t[i] = sw.Elapsed.TotalMilliseconds;
        }
        Array.Sort(t);
        double gops = 2.0 * IntConvBenchmarks.G.OutputLength * IntConvBenchmarks.G.PatchSize / (t[repeats / 2] * 1e6);
        Console.WriteLine($"{name,-24} median {t[repeats / 2],7:F2} ms   min {t[0],7:F2} ms   {gops,6:F0} GOP/s");
    }

    private static string Differ(byte[] a, byte[] b)
    {
        int differ = 0, maxDiff = 0;
        for (int i = 0; i < a.Length; i++)
        {
            int d = Math.Abs(a[i] - b[i]);
            if (d != 0) differ++;
            maxDiff = Math.Max(maxDiff, d);
        }
        return $"{differ} of {a.Length} codes differ, max |diff| = {maxDiff}";
    }
}
