using System.Diagnostics;
using Nanoq.Kernels;
using Nanoq.Kernels.Integer;

namespace Nanoq.Integer.Benchmarks;

/// <summary>
/// <c>--winograd [ROUNDS]</c>: the 4-bit 3 × 3 stride-1 convs of the benchmark layer and of the default detectors'
/// backbone, FPN and heads (160 px images: 40 × 40 down to 5 × 5 maps), at batch 1 and 8, by the direct path and by
/// <see cref="IntConv2dWinograd"/> alternating call by call in one process (so a busy machine slows both alike), with
/// the medians and their ratio; the two outputs are compared byte for byte. Weights: random 4-bit codes with zero
/// points in [1, 14] (every U' fits s8), as trained 4-bit grids have.
/// </summary>
internal static class WinogradCheck
{
    private static readonly (int N, int C, int S)[] Shapes =
    [
        (8, 64, 56), (8, 64, 40), (8, 64, 20), (8, 64, 10), (8, 64, 5), (8, 128, 5), (8, 32, 20), (8, 32, 40), (8, 16, 40),
        (1, 64, 40), (1, 64, 20), (1, 64, 10), (1, 32, 20), (1, 16, 40),
    ];

    public static void Run(int rounds)
    {
        Console.WriteLine($"4-bit 3x3 convs, direct / Winograd F(2x2,3x3), {rounds} alternating calls each (Simd {Simd.Level}, " +
                          $"{ParallelRunner.MaxDegreeOfParallelism} threads, Winograd supported: {IntConv2dWinograd.IsSupported}, " +
                          $"runs from {IntConv2dWinograd.MinInChannels} input channels; below that both columns time the direct path)");
        foreach (var (n, c, s) in Shapes)
        {
            var g = new Conv2dGeometry(n, c, s, s, c, 3, 1, 1);
            var rng = new Random(n * 1000 + c + s);
            var x = new byte[g.InputLength];
            for (int i = 0; i < x.Length; i++) x[i] = (byte)rng.Next(16);
            var w = new byte[g.WeightLength];
            for (int i = 0; i < w.Length; i++) w[i] = (byte)rng.Next(16);
            var zw = Enumerable.Range(0, c).Select(_ => 1 + rng.Next(14)).ToArray();
            var bias = Enumerable.Range(0, c).Select(_ => rng.Next(-1000, 1000)).ToArray();
            var rq = new Requantization(Enumerable.Repeat((1 << 30) + 12345, c).ToArray(), Enumerable.Repeat(-9, c).ToArray(), 3, 0, 15);
            var weights = IntConv2dWeights.Pack(c, c, 3, 3, 1, w, zw, 4, 4);
            var direct = new byte[g.OutputLength];
            var wino = new byte[g.OutputLength];
            void Call(bool winograd, byte[] y)
            {
                IntConv2dWinograd.Enabled = winograd;
                IntConv2d.Forward(g, x, 3, weights, bias, rq, y);
            }
            var warm = Stopwatch.StartNew();
            while (warm.Elapsed.TotalSeconds < 1.5) { Call(false, direct); Call(true, wino); }
            var td = new double[rounds];
            var tw = new double[rounds];
            for (int r = 0; r < rounds; r++)
            {
                long t0 = Stopwatch.GetTimestamp();
                Call(false, direct);
                long t1 = Stopwatch.GetTimestamp();
                Call(true, wino);
                long t2 = Stopwatch.GetTimestamp();
                td[r] = (t1 - t0) * 1000.0 / Stopwatch.Frequency;
                tw[r] = (t2 - t1) * 1000.0 / Stopwatch.Frequency;
            }
            IntConv2dWinograd.Enabled = true;
            Array.Sort(td);
            Array.Sort(tw);
            double md = td[rounds / 2], mw = tw[rounds / 2];
            string same = direct.AsSpan().SequenceEqual(wino) ? "same codes" : "CODES DIFFER";
            string steps = weights.Winograd is null ? "no transform" : $"S {weights.Winograd.PointSteps.ToArray().Min()}–{weights.Winograd.PointSteps.ToArray().Max()}";
            Console.WriteLine($"{n} x {c,3} x {s,2}^2 -> {c,3}: direct {md,7:F3} ms  Winograd {mw,7:F3} ms  {md / mw,5:F2}x  ({steps}, {same}, suits: {IntConv2dWinograd.Suits(g, weights)})");
        }
    }
}
