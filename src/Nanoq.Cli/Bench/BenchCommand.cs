using System.Diagnostics;
using System.Globalization;
using Nanoq.Autograd;
using Nanoq.Nn.Backbones;
using Nanoq.Nn.Optim;

namespace Nanoq.Cli.Bench;

/// <summary>
/// <c>nanoq bench</c>: end-to-end workloads timed in this process (median of repeated runs after warm-up), with
/// the process's peak resident memory. Kernel-level benchmarks live in benchmarks/ (BenchmarkDotNet); these are the
/// whole-model numbers that compare with ../shared/tools/peer_bench.py run in the same sitting.
/// </summary>
public static class BenchCommand
{
    internal static readonly Commands.CliCommand Definition = new("bench",
        """
        Usage: nanoq bench [--only NAME[,NAME...]] [--runs N] [--warmup N]
        """,
        """
        Workloads (PyTorch's counterparts are in ../shared/tools/peer_bench.py):
          resnet18-train-step   ResNet-18, batch 8, 3x224x224, cross-entropy, SGD momentum 0.9, wd 1e-4
          resnet18-eval         ResNet-18 eval forward, batch 1, 224x224
          mobilenet-v2-eval     MobileNetV2 eval forward, batch 1, 224x224
          retinanet-float-b1/b8     the default RetinaNet (ResNet-18 x0.25, FPN 64, 160 px) float forward to its raw outputs
          retinanet-int4-b1/b8      the same model, FQN 4-bit, converted: quantize the image, the integer program, dequantize
          retinanet-train-step      one SGD step of the float model, batch 8, three boxes an image
          retinanet-finetune-step   one FQN 4-bit fine-tuning step of it (fake quantization, frozen BN)
          faster-rcnn-*             the same six for the default Faster R-CNN (box stage included: RPN, proposals, RoIAlign)
        Prints the median and minimum milliseconds, the process's peak resident memory (VmHWM) after each workload, the
        managed memory allocated per timed run and the full (gen 2) garbage collections during the timed runs.
        Pairs — a detector's float and int4 forward at one batch size, its training and fine-tuning steps — run
        interleaved when both are selected (one run of each in turn, so a busy machine slows both alike), and print
        their ratio: the median over runs of the paired ratios. Each workload is warmed up for at least 4 seconds
        (and --warmup runs) first: .NET compiles a method's final code only after it has run a while.
        """,
        spec =>
        {
            spec.Text("--only", "NAME[,NAME...]", "run these workloads only");
            spec.Int("--runs", "N", "timed runs of each workload (default 7 for the training step, 20 for the forwards)", 1, 1_000_000);
            spec.Int("--warmup", "N", "untimed runs first, and at least 4 s of them (default 2 for the training step, 5 for the forwards; 0: none)", 0, 1_000_000);
        },
        Body);

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) => Definition.Run(args, stdout, stderr);

    private static readonly (string Name, Func<Action> Setup, int Runs, int Warmup)[] Workloads =
    [
        ("resnet18-train-step", ResNet18TrainStep, 7, 2),
        ("resnet18-eval", () => Eval(ResNet.ResNet18()), 20, 5),
        ("mobilenet-v2-eval", () => Eval(new MobileNetV2()), 20, 5),
        .. Detector("retinanet"),
        .. Detector("faster-rcnn"),
    ];

    /// <summary>(baseline, candidate) workloads compared by their ratio, interleaved when both run.</summary>
    private static readonly (string Baseline, string Candidate)[] Pairs =
        [.. new[] { "retinanet", "faster-rcnn" }.SelectMany(k => new[]
        {
            ($"{k}-float-b1", $"{k}-int4-b1"), ($"{k}-float-b8", $"{k}-int4-b8"), ($"{k}-train-step", $"{k}-finetune-step"),
        })];

    /// <summary>A detector's workloads: float and 4-bit integer forwards at batch 1 and 8, a float training step and an FQN fine-tuning step (batch 8).</summary>
    private static (string, Func<Action>, int, int)[] Detector(string kind) =>
    [
        ($"{kind}-float-b1", () => DetectorForward(kind, 1, integer: false), 20, 5),
        ($"{kind}-int4-b1", () => DetectorForward(kind, 1, integer: true), 20, 5),
        ($"{kind}-float-b8", () => DetectorForward(kind, 8, integer: false), 10, 3),
        ($"{kind}-int4-b8", () => DetectorForward(kind, 8, integer: true), 10, 3),
        ($"{kind}-train-step", () => DetectorTrainStep(kind, quantized: false), 7, 2),
        ($"{kind}-finetune-step", () => DetectorTrainStep(kind, quantized: true), 7, 2),
    ];

    /// <summary>
    /// The default detector of <c>nanoq run</c> (untrained weights, BN statistics as initialized; a calibrated 4-bit twin
    /// for the integer workload): speed does not depend on the values, only on the shapes and the grids' bit widths —
    /// except Faster R-CNN's box stage, whose RoI count is that of the proposals (at most the test top-n, 150 an image;
    /// an untrained RPN's random scores give that many).
    /// </summary>
    private static Action DetectorForward(string kind, int batch, bool integer)
    {
        var config = Detection.Detectors.Small(kind, 3);
        var model = Detection.Detectors.Create(config, seed: 1);
        var rng = new Rng(0);
        var images = rng.Normal(new Shape(batch, 3, config.InputSize, config.InputSize));
        if (!integer)
        {
            model.Network.Eval();
            return () =>
            {
                using var _ = GradMode.NoGrad();
                using var tape = new Tape();
                model.Forward(new Var(images));
            };
        }
        Quant.Taps.ModelQuantizer.Install(model.Network, Quant.QuantRecipe.Fqn(4));
        var calibration = Enumerable.Range(0, 4).Select(_ => rng.Normal(new Shape(2, 3, config.InputSize, config.InputSize))).ToList();
        Quant.Calibrator.Calibrate(model.Network, calibration, b => model.Forward(new Var(b)), calibration.Count);
        var net = Detection.Detectors.Convert(model, images);
        return () =>
        {
            // Edges included: quantize the image, the program (and a two-stage detector's host side), dequantize.
            foreach (var v in net.Forward(images).Outputs) v.Value.Dispose();
        };
    }

    /// <summary>
    /// One SGD step (momentum 0.9, weight decay 1e-4) of the default detector at batch 8 on 160-px images with three
    /// boxes each: float training, or FQN 4-bit fine-tuning (quantizers installed and calibrated, batch norm frozen).
    /// </summary>
    private static Action DetectorTrainStep(string kind, bool quantized)
    {
        var config = Detection.Detectors.Small(kind, 3);
        var model = Detection.Detectors.Create(config, seed: 1);
        var rng = new Rng(0);
        int side = config.InputSize;
        var images = rng.Normal(new Shape(8, 3, side, side));
        var targets = Enumerable.Range(0, 8).Select(_ =>
        {
            var boxes = new List<float>();
            for (int k = 0; k < 3; k++)
            {
                float w = rng.Uniform(16f, 80f), h = rng.Uniform(16f, 80f), x = rng.Uniform(0f, side - w), y = rng.Uniform(0f, side - h);
                boxes.AddRange([x, y, x + w, y + h]);
            }
            return new Detection.DetectionTarget(boxes.ToArray(), [0, 1, 2]);
        }).ToArray();
        if (quantized)
        {
            Quant.Taps.ModelQuantizer.Install(model.Network, Quant.QuantRecipe.Fqn(4));
            var calibration = Enumerable.Range(0, 2).Select(_ => rng.Normal(new Shape(2, 3, side, side))).ToList();
            Quant.Calibrator.Calibrate(model.Network, calibration, b => model.Forward(new Var(b)), calibration.Count);
        }
        model.Network.Train();
        var sgd = new Sgd(model.Network.NamedParameters(), lr: 0.002f, momentum: 0.9f, weightDecay: 1e-4f);
        var x = new Var(images);
        return () =>
        {
            using var tape = new Tape();
            sgd.ZeroGrad();
            model.Loss(model.Forward(x), targets).Total.Backward();
            sgd.Step();
        };
    }

    private static int Body(Commands.CommandArgs cl, TextWriter stdout, TextWriter stderr)
    {
        var only = cl.Get("--only")?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        int? runs = cl.Int("--runs"), warmup = cl.Int("--warmup");
        foreach (var name in only ?? [])
            if (Workloads.All(w => w.Name != name))
            {
                stderr.WriteLine($"nanoq bench: unknown workload '{name}'; one of {string.Join(", ", Workloads.Select(w => w.Name))}");
                return 2;
            }
        var selected = Workloads.Where(w => only is null || only.Contains(w.Name)).ToList();
        // What the numbers depend on beyond the code: the threads, the vector level and whether float and integer 3×3 convs
        // run by Winograd (NANOQ_NUM_THREADS, NANOQ_MAX_ISA, NANOQ_WINOGRAD, NANOQ_INT_WINOGRAD).
        string OnOff(bool on) => on ? "on" : "off";
        stdout.WriteLine($"{"workload",-24} {"median ms",10} {"min ms",9} {"peak RSS MiB",13} {"alloc MiB/run",14} {"gen2 GCs",9}   " +
                         $"({Threads(Nanoq.Kernels.ParallelRunner.MaxDegreeOfParallelism)}, {Nanoq.Kernels.Simd.Level}, " +
                         $"Winograd {OnOff(Nanoq.Kernels.Conv2dKernels.Winograd)}, integer Winograd " +
                         $"{OnOff(Nanoq.Kernels.Integer.IntConv2dWinograd.Enabled && Nanoq.Kernels.Integer.IntConv2dWinograd.IsSupported)})");
        var done = new HashSet<string>();
        foreach (var w in selected)
        {
            if (!done.Add(w.Name)) continue;
            var pair = Pairs.FirstOrDefault(p => p.Baseline == w.Name);
            var partner = selected.FirstOrDefault(c => c.Name == pair.Candidate);
            if (partner.Name is null)
            {
                var m = Measure([w.Setup()], runs ?? w.Runs, warmup ?? w.Warmup)[0];
                Print(stdout, w.Name, m);
                continue;
            }
            done.Add(partner.Name);
            var both = Measure([w.Setup(), partner.Setup()], runs ?? Math.Max(w.Runs, partner.Runs), warmup ?? Math.Max(w.Warmup, partner.Warmup));
            Print(stdout, w.Name, both[0]);
            Print(stdout, partner.Name, both[1]);
            var ratios = both[1].Times.Zip(both[0].Times, (c, b) => c / b).ToArray();
            double r = Median(ratios);
            string verdict = r <= 1 ? $"{1 / r:F2}x faster" : $"{r:F2}x slower";
            stdout.WriteLine($"  {partner.Name} / {w.Name} time: {r:F2}, {verdict} (median of {ratios.Length} interleaved pairs)");
        }
        return 0;
    }

    private static void Print(TextWriter stdout, string name, BenchMeasurement m) =>
        stdout.WriteLine($"{name,-24} {Ms(Median(m.Times)),10} {Ms(m.Times.Min()),9} {PeakRssMiB(),13:F0} {m.Allocated / (1024.0 * 1024) / m.Times.Length,14:F1} {m.Gen2Collections,9}");

    /// <summary>
    /// Untimed time a body runs first (with at least the warm-up runs asked for, unless 0 are). Why: .NET's tiered JIT
    /// gives a hot method its optimized code only after 30 calls and a pause of 100 ms without new compilations, and
    /// dynamic PGO recompiles later still; five runs of a 2 ms forward measured the early code — the integer RetinaNet at
    /// batch 1 took 2.7–3.3 ms after 5 warm-up runs and 1.3–1.8 ms after 300, the RetinaNet training step 98.5 ms after 2
    /// and 76.0 after 20 (2026-12-06, one sitting). 4 s rather than 2: with 2 s the integer Faster R-CNN at batch 8 run
    /// alone had a stretch of runs at twice their time ≈ 0.2 s after timing began in 3 of 4 runs of 150 (the JIT
    /// recompiling in the background on one of the two cores: none in 3 of 4 with DOTNET_TieredCompilation=0), which
    /// put the medians of 25 runs at 17.7–18.7 ms against 12.9–14.2 interleaved (2026-12-06, 20:06–20:36, load 1.2–2.5).
    /// </summary>
    public static readonly TimeSpan MinWarmup = TimeSpan.FromSeconds(4);

    /// <summary>
    /// Times <paramref name="runs"/> calls of each body after <paramref name="warmup"/> untimed ones and at least
    /// <see cref="MinWarmup"/> of them (none when <paramref name="warmup"/> is 0), in turn (body 0, body 1, …, then
    /// again), so that several bodies see the same machine.
    /// </summary>
    public static BenchMeasurement[] Measure(Action[] bodies, int runs, int warmup)
    {
        foreach (var body in bodies)
        {
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < warmup || (warmup > 0 && Stopwatch.GetElapsedTime(start) < MinWarmup); i++) body();
        }
        var times = bodies.Select(_ => new double[runs]).ToArray();
        var allocated = new long[bodies.Length];
        var gen2 = new int[bodies.Length];
        for (int i = 0; i < runs; i++)
            for (int b = 0; b < bodies.Length; b++)
            {
                long bytes = GC.GetTotalAllocatedBytes(precise: false);
                int collections = GC.CollectionCount(2);
                long start = Stopwatch.GetTimestamp();
                bodies[b]();
                times[b][i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                allocated[b] += GC.GetTotalAllocatedBytes(precise: false) - bytes;
                gen2[b] += GC.CollectionCount(2) - collections;
            }
        return [.. bodies.Select((_, b) => new BenchMeasurement(times[b], allocated[b], gen2[b]))];
    }

    /// <summary>Milliseconds to three significant digits or more: 1.07, 18.3, 412.5 (a batch-1 forward's 0.1 ms steps were 10 %).</summary>
    private static string Ms(double ms) => ms.ToString(ms < 10 ? "F2" : "F1", CultureInfo.InvariantCulture);

    public static double Median(double[] xs)
    {
        var s = xs.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : 0.5 * (s[s.Length / 2 - 1] + s[s.Length / 2]);
    }

    /// <summary>Peak resident set size of this process (Linux VmHWM), in MiB; NaN where /proc is absent.</summary>
    public static double PeakRssMiB()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return double.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024;
        }
        catch (IOException) { }
        return double.NaN;
    }

    private static Action ResNet18TrainStep()
    {
        var model = ResNet.ResNet18();
        model.Train();
        var sgd = new Sgd(model.NamedParameters(), lr: 0.01f, momentum: 0.9f, weightDecay: 1e-4f);
        var rng = new Rng(0);
        var x = new Var(rng.Normal(new Shape(8, 3, 224, 224)));
        var labels = Enumerable.Range(0, 8).Select(_ => rng.NextInt(1000)).ToArray();
        return () =>
        {
            using var tape = new Tape();
            sgd.ZeroGrad();
            Fn.CrossEntropy(model.Forward(x), labels).Backward();
            sgd.Step();
        };
    }

    private static Action Eval(Nn.Layer model)
    {
        model.Eval();
        var x = new Var(new Rng(0).Normal(new Shape(1, 3, 224, 224)));
        return () =>
        {
            using var _ = GradMode.NoGrad();
            using var tape = new Tape();
            model.Forward(x);
        };
    }

    private static string Threads(int n) => n == 1 ? "1 thread" : $"{n} threads";
}
