using System.Diagnostics;
using System.Globalization;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Nanoq;
using Tensor = Nanoq.Tensor;
using Nanoq.Autograd;
using Nanoq.Cli.Pipeline;
using Nanoq.Detection;
using Nanoq.Onnx;
using Nanoq.Quant;

// A run folder's detector four ways, in one process: Nanoq's float forward and integer program, and ONNX Runtime on
// Nanoq's float and QDQ exports of the same model (nanoq export). With --eval, the COCO AP of each on the val split
// (the QDQ export against the integer model: the ONNX issue's 0.5-AP bar); then the median forward time of each at
// batch 1 and 8 (raw outputs, edges included: image → outputs, no postprocessing), and the ratios.
//
//   dotnet run -c Release --project benchmarks/Nanoq.Onnx.Benchmarks -- --out runs/shapes [--data shapes] [--eval] [--ops] [--profile] [--runs 15]
// (--ops: the op types of the QDQ export before and after ONNX Runtime's graph optimizations)
var opts = Args(args);
string dir = opts.GetValueOrDefault("--out", Path.Combine("runs", "shapes"));
int runs = int.Parse(opts.GetValueOrDefault("--runs", "15"), CultureInfo.InvariantCulture);
var run = new RunFolder(dir);
var recipe = QuantRecipe.Fqn(4);
var info = run.LoadModelInfo();
var floatModel = Stages.LoadFloat(run);
var (fakeQuant, _) = QuantStages.Load(run, recipe, run.QuantCheckpoint(recipe));
var integer = IntegerStages.Load(run, recipe);
int side = (info.Config.InputSize + 31) / 32 * 32;
using var sample = Tensor.Zeros(1, 3, side, side);
// A two-stage detector's RoI stage needs the host, which an ONNX graph does not carry: Nanoq's runtimes only.
bool staged = floatModel is IStagedDetector;
var floatOnnx = staged ? null : OnnxExporter.Export(floatModel.Network, x => floatModel.Forward(x).Outputs, sample, quantized: false);
var qdqOnnx = staged ? null : OnnxExporter.Export(fakeQuant.Network, x => fakeQuant.Forward(x).Outputs, sample, quantized: true);
using var sessionOptions = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpNumThreads = Environment.ProcessorCount };
using var ortFloat = staged ? null : new InferenceSession(floatOnnx!.ToByteArray(), sessionOptions);
using var ortQdq = staged ? null : new InferenceSession(qdqOnnx!.ToByteArray(), sessionOptions);
if (opts.ContainsKey("--ops") && qdqOnnx is not null)
{
    // What ONNX Runtime made of the QDQ graph: the op types of its optimized model, counted.
    string file = Path.Combine(Path.GetTempPath(), $"nanoq-qdq-optimized-{Environment.ProcessId}.onnx");
    using (var dump = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, OptimizedModelFilePath = file })
    using (new InferenceSession(qdqOnnx.ToByteArray(), dump)) { }
    var optimized = Nanoq.Onnx.Proto.ModelProto.Parser.ParseFrom(File.ReadAllBytes(file));
    File.Delete(file);
    Console.WriteLine("QDQ export, op types before → after ONNX Runtime's optimizations: " +
        string.Join(", ", qdqOnnx.Graph.Node.GroupBy(n => n.OpType).OrderByDescending(g => g.Count()).Select(g => $"{g.Key} {g.Count()}")) + " → " +
        string.Join(", ", optimized.Graph.Node.GroupBy(n => n.OpType).OrderByDescending(g => g.Count()).Select(g => $"{g.Key} {g.Count()}")));
}
Console.WriteLine($"{info.Config.Describe()}; ONNX Runtime {OrtEnv.Instance().GetVersionString()}, {Environment.ProcessorCount} threads");

DetectorOutput Ort(InferenceSession s, Tensor images)
{
    var x = new DenseTensor<float>(images.ToArray(), images.Shape.ToArray());
    using var results = s.Run([NamedOnnxValue.CreateFromTensor(s.InputMetadata.Keys.Single(), x)]);
    var outs = results.OrderBy(r => int.Parse(r.Name.Split('_')[1], CultureInfo.InvariantCulture)).Select(r =>
    {
        var t = r.AsTensor<float>();
        return new Var(Tensor.FromArray(t.ToArray(), t.Dimensions.ToArray()));
    }).ToArray();
    return new DetectorOutput(outs, images.Shape[2], images.Shape[3]);
}

DetectorOutput NanoqFloat(Tensor images)
{
    using var _ = GradMode.NoGrad();
    using var tape = new Tape();
    var o = floatModel.Forward(new Var(images));
    return new DetectorOutput(o.Outputs.Select(v => new Var(v.Value.Clone())).ToArray(), o.ImageHeight, o.ImageWidth, o.State);
}

var ways = new List<(string Name, Func<Tensor, DetectorOutput> Forward)> { ("nanoq-float", NanoqFloat), ("nanoq-int4", x => integer.Forward(x)) };
if (!staged) ways.AddRange([("ort-float", t => Ort(ortFloat!, t)), ("ort-qdq-int4", t => Ort(ortQdq!, t))]);

if (opts.ContainsKey("--eval"))
{
    var data = DataSplits.Resolve(opts.GetValueOrDefault("--data", "shapes"), Path.Combine("runs", "data"), Console.Error);
    var ap = new Dictionary<string, double>();
    foreach (var (name, forward) in ways)
    {
        var result = Stages.Evaluate(run, name, data, info.Config, (images, sizes) => floatModel.Postprocess(forward(images), sizes), Console.Error);
        ap[name] = result.Stats[0] * 100;
    }
    Console.WriteLine(string.Join("  ", ap.Select(kv => $"{kv.Key} AP {kv.Value:F1}")));
    if (!staged)
        Console.WriteLine($"QDQ export (ONNX Runtime) − integer model (Nanoq): {ap["ort-qdq-int4"] - ap["nanoq-int4"]:+0.0;-0.0} AP; float export − float: {ap["ort-float"] - ap["nanoq-float"]:+0.0;-0.0} AP");
}

if (opts.ContainsKey("--profile"))
{
    // Where the integer forward's time goes: the image's quantization, each op kind of the program (timed between the
    // interpreter's calls to the hook, so an op's time includes its dispatch), the outputs' dequantization. Medians of
    // per-kind totals over the runs.
    foreach (int batch in new[] { 1, 8 })
    {
        var rng = new Rng(7);
        using var images = Tensor.Empty(batch, 3, side, side);
        rng.FillNormal(images.Span, 0f, 1f);
        var totals = new Dictionary<string, List<double>>();
        void Add(string kind, double ms, int r)
        {
            if (!totals.TryGetValue(kind, out var l)) totals[kind] = l = [];
            while (l.Count <= r) l.Add(0);
            l[r] += ms;
        }
        var model = integer.Model;
        var buffer = new byte[images.Size]; // reused, as IntegerModel.Run reuses its input codes
        for (int r = -3; r < runs; r++) // three warm-up runs
        {
            var clock = Stopwatch.StartNew();
            var codes = model.Quantize(0, images, buffer);
            if (r >= 0) Add("edge: quantize image", clock.Elapsed.TotalMilliseconds, r);
            var hook = new OpTimer(clock, (kind, ms) => { if (r >= 0) Add(kind, ms, r); });
            // A two-stage detector's host work (proposals, RoI plans) runs when the RoIAlign op asks: charged to it.
            var host = integer.Detector is IStagedDetector st ? st.IntegerRun(model, side, side).SideInputs : null;
            clock.Restart();
            var outs = model.Program.Run([codes], hook, host);
            clock.Restart();
            for (int o = 0; o < outs.Count; o++) model.Dequantize(o, outs[o]).Dispose();
            if (r >= 0) Add("edge: dequantize outputs", clock.Elapsed.TotalMilliseconds, r);
        }
        double sum = totals.Values.Sum(l => l.Order().ElementAt(l.Count / 2));
        Console.WriteLine($"integer forward profile, batch {batch} (medians of {runs} runs, ms):");
        foreach (var (kind, l) in totals.OrderByDescending(kv => kv.Value.Order().ElementAt(kv.Value.Count / 2)))
        {
            double m = l.Order().ElementAt(l.Count / 2);
            Console.WriteLine($"  {kind,-28} {m,7:F3}  {100 * m / sum,5:F1} %");
        }
    }
}

Console.WriteLine($"uptime: {File.ReadAllText("/proc/loadavg").Trim()}");
foreach (int batch in new[] { 1, 8 })
{
    var rng = new Rng(7);
    using var images = Tensor.Empty(batch, 3, side, side);
    rng.FillNormal(images.Span, 0f, 1f);
    var medians = new Dictionary<string, double>();
    foreach (var (name, forward) in ways)
    {
        // Warm-up, at least 3 runs and 2 s: pools, ORT's arena, and .NET's tiered JIT, which compiles a method's final code
        // only after it has run a while (3 runs of a 2 ms forward measured the early code; nanoq bench does the same).
        var warm = Stopwatch.StartNew();
        for (int w = 0; w < 3 || warm.Elapsed.TotalSeconds < 2; w++) forward(images).Outputs.ToList().ForEach(v => v.Value.Dispose());
        var times = new double[runs];
        for (int r = 0; r < runs; r++)
        {
            var clock = Stopwatch.StartNew();
            var o = forward(images);
            times[r] = clock.Elapsed.TotalMilliseconds;
            foreach (var v in o.Outputs) v.Value.Dispose();
        }
        Array.Sort(times);
        medians[name] = times[runs / 2];
    }
    Console.WriteLine($"batch {batch}, {side}x{side}: " + string.Join(", ", medians.Select(kv => $"{kv.Key} {kv.Value:F2} ms")));
    Console.WriteLine($"  nanoq-int4 vs nanoq-float {medians["nanoq-float"] / medians["nanoq-int4"]:F2}x faster" +
                      (staged ? "" : $"; vs ort-qdq-int4 {medians["ort-qdq-int4"] / medians["nanoq-int4"]:F2}x; vs ort-float {medians["ort-float"] / medians["nanoq-int4"]:F2}x"));
}
Console.WriteLine($"uptime: {File.ReadAllText("/proc/loadavg").Trim()}");

static Dictionary<string, string> Args(string[] a)
{
    var d = new Dictionary<string, string>();
    for (int i = 0; i < a.Length; i++)
        d[a[i]] = i + 1 < a.Length && !a[i + 1].StartsWith("--", StringComparison.Ordinal) ? a[++i] : "";
    return d;
}

/// <summary>Times each op of an integer program run: the time since the previous op finished, charged to this op's kind.</summary>
sealed class OpTimer(Stopwatch clock, Action<string, double> charge) : Nanoq.Quant.Integer.Program.IIntOpHook
{
    public Nanoq.Quant.Integer.Program.CodeTensor? AfterOp(Nanoq.Quant.Integer.Program.IntOp op, IReadOnlyList<Nanoq.Quant.Integer.Program.CodeTensor> inputs,
        Nanoq.Quant.Integer.Program.CodeTensor output)
    {
        string kind = op is Nanoq.Quant.Integer.Program.IntConvOp c
            ? $"conv {c.Layer.KernelH}x{c.Layer.KernelW}{(c.Layer.Groups > 1 ? " depthwise" : "")}{(c.Layer.StrideH > 1 ? " /2" : "")}"
            : op.Kind;
        charge(kind, clock.Elapsed.TotalMilliseconds);
        clock.Restart();
        return null;
    }
}
