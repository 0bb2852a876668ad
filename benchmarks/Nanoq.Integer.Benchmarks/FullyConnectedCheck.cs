using System.Diagnostics;
using Nanoq.Kernels.Integer;

namespace Nanoq.Integer.Benchmarks;

/// <summary>
/// The 4-bit integer fully connected layer on a box head's fc6 shape (RoIs × 3,136 → 256: the default Faster R-CNN's
/// 64 channels × 7 × 7 pooled features): at batch 1 (150 RoIs), batch 8 (1,200) and a few small row counts, each checked
/// against <see cref="IntFullyConnected.ReferenceAccumulators"/> first, then Stopwatch medians and minimums after at
/// least 1 s of warm-up (<c>--fc [runs]</c>).
/// </summary>
internal static class FullyConnectedCheck
{
    public static void Run(int repeats)
    {
        const int inF = 3136, outF = 256;
        var rng = new Random(1);
        var codes = new byte[outF * inF];
        for (int i = 0; i < codes.Length; i++) codes[i] = (byte)rng.Next(16);
        var zw = new int[outF];
        var bias = new int[outF];
        var m0 = new int[outF];
        var shifts = new int[outF];
        for (int o = 0; o < outF; o++)
        {
            zw[o] = rng.Next(4, 12);
            bias[o] = rng.Next(-1000, 1000);
            m0[o] = (1 << 30) | rng.Next(1 << 29);
            shifts[o] = -8 - rng.Next(4);
        }
        var weights = IntFullyConnectedWeights.Pack(outF, inF, codes, zw, 4, 4);
        var rq = new Requantization(m0, shifts, 3, 0, 15);
        foreach (int rows in new[] { 150, 1200, 1, 8, 40 })
        {
            var x = new byte[rows * inF];
            for (int i = 0; i < x.Length; i++) x[i] = (byte)rng.Next(16);
            var acc = new int[rows * outF];
            var expected = new int[rows * outF];
            IntFullyConnected.ForwardAccumulators(rows, x, 2, weights, bias, acc);
            IntFullyConnected.ReferenceAccumulators(rows, x, 2, codes, zw, outF, bias, expected);
            if (!acc.AsSpan().SequenceEqual(expected)) throw new InvalidOperationException($"fc {rows} rows: the kernel differs from the reference.");
            var y = new byte[rows * outF];
            var warm = Stopwatch.StartNew();
            while (warm.Elapsed.TotalSeconds < 1) IntFullyConnected.Forward(rows, x, 2, weights, bias, rq, y);
            var t = new double[repeats];
            for (int i = 0; i < repeats; i++)
            {
                long start = Stopwatch.GetTimestamp();
                IntFullyConnected.Forward(rows, x, 2, weights, bias, rq, y);
                t[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            }
            Array.Sort(t);
            double gops = 2.0 * rows * inF * outF / (t[repeats / 2] * 1e3);
            Console.WriteLine($"fc {rows,4} x {inF} -> {outF} (4-bit)  median {t[repeats / 2],8:F1} us   min {t[0],8:F1} us   {gops,5:F0} GOP/s");
        }
    }
}
