using System.Diagnostics;
using Nanoq.Kernels;

namespace Nanoq.Benchmarks;

/// <summary>
/// <c>dotnet run -c Release --project benchmarks/Nanoq.Benchmarks -- --winograd [ROUNDS]</c>: the 3 × 3 stride-1
/// convolutions of the speed issue's workloads — ResNet-18's four stages at batch 8 (224 px) and the default detectors'
/// 64-channel pyramid levels — forward, input gradient and weight gradient, the direct path and Winograd F(4 × 4, 3 × 3)
/// (<see cref="Conv2dKernels.Winograd"/>) alternating call by call in one process, so a busy VM slows both alike.
/// Prints each one's median and the direct / Winograd ratio. Shapes below the thresholds (64 channels, 64 tiles, 14 × 14
/// outputs) take the direct path both ways (ratio ≈ 1).
/// </summary>
public static class WinogradCheck
{
    private static readonly (int Batch, int Channels, int Size)[] Shapes =
    [
        (8, 64, 56), (8, 128, 28), (8, 256, 14), (8, 512, 7),   // ResNet-18 layer1..4 at batch 8
        (1, 64, 40), (1, 64, 20), (8, 64, 40), (8, 64, 20), (8, 64, 10), // FPN / head levels of the default detectors
        (8, 16, 80), (8, 32, 40),                                // the RetinaNet backbone's narrow stages
    ];

    public static void Run(string[] args)
    {
        int rounds = args.Length > 1 && int.TryParse(args[1], out int r) ? r : 1;
        bool saved = Conv2dKernels.Winograd;
        Console.WriteLine($"{"conv (3x3, pad 1)",-22} {"forward direct / wino",24} {"input grad",24} {"weight grad",24}   (ms, median; {ParallelRunner.MaxDegreeOfParallelism} threads)");
        try
        {
            foreach (var (n, c, hw) in Shapes) Measure(new Conv2dGeometry(n, c, hw, hw, c, 3, 1, 1), rounds);
        }
        finally
        {
            Conv2dKernels.Winograd = saved;
        }
    }

    private static void Measure(Conv2dGeometry g, int rounds)
    {
        var rng = new Random(1);
        var x = GemmBenchmarks.Fill(rng, g.InputLength);
        var w = GemmBenchmarks.Fill(rng, g.WeightLength);
        var b = GemmBenchmarks.Fill(rng, g.OutChannels);
        var dy = GemmBenchmarks.Fill(rng, g.OutputLength);
        var y = new float[g.OutputLength];
        var dx = new float[g.InputLength];
        var dw = new float[g.WeightLength];
        Action[] calls =
        [
            () => Conv2dKernels.Conv2dForward(g, x, w, b, y),
            () => Conv2dKernels.Conv2dBackwardInput(g, dy, w, dx),
            () => Conv2dKernels.Conv2dBackwardWeight(g, x, dy, dw, Span<float>.Empty),
        ];
        int reps = (g.ForwardFlops > 1e9 ? 9 : 41) * rounds;
        var times = new List<double>[6];
        for (int i = 0; i < times.Length; i++) times[i] = [];
        for (int rep = -3; rep < reps; rep++) // three untimed rounds first
            for (int call = 0; call < calls.Length; call++)
                for (int way = 0; way < 2; way++)
                {
                    Conv2dKernels.Winograd = way == 1;
                    long t0 = Stopwatch.GetTimestamp();
                    calls[call]();
                    if (rep >= 0) times[2 * call + way].Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                }
        string Cell(int call)
        {
            double direct = Median(times[2 * call]), wino = Median(times[2 * call + 1]);
            return $"{direct,7:F3} / {wino,7:F3} {direct / wino,5:F2}x";
        }
        Console.WriteLine($"{$"{g.Batch}x{g.InChannels}x{g.Height}^2 -> {g.OutChannels}",-22} {Cell(0),24} {Cell(1),24} {Cell(2),24}");
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }
}
