using Nanoq.Autograd;
using Nanoq.Nn.Taps;
using Nanoq.Onnx.Proto;
using Nanoq.Quant;
using Nanoq.Quant.Taps;
using Xunit.Abstractions;

namespace Nanoq.Onnx.Tests;

/// <summary>
/// The real case: the ImageNet ResNet-18 of NuGet's Microsoft.ML.DnnImageFeaturizer.ResNet18 0.24.0 (a CNTK export,
/// opset 8, restored by this project's PackageReference), imported and checked against ONNX Runtime.
/// </summary>
public class ResNet18Tests(ITestOutputHelper output)
{
    private static readonly int[] Dims = [1, 3, 224, 224];

    /// <summary>The C2–C5 values of this file, as <see cref="OnnxBackbone.FindStages"/> finds them (the four stages' last ReLU).</summary>
    internal static readonly string[] StageValues = ["ReLU283_Output_0", "ReLU315_Output_0", "ReLU347_Output_0", "ReLU393_Output_0"];

    private static string Path => OrtPeer.ResNet18Path() ?? throw new InvalidOperationException("ResNet18.onnx is not restored (NuGet Microsoft.ML.DnnImageFeaturizer.ResNet18 0.24.0).");

    [Fact]
    public void Matches_onnx_runtime_at_the_output_and_at_c2_to_c5()
    {
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path));
        // The input the model expects: BGR in 0..255 minus the mean image, so roughly ±128.
        var x = new GraphBuilder("x", Dims, seed: 18).RandomInput(Dims.Aggregate(1, (a, b) => a * b), 128f);
        string[] values = [.. StageValues, model.Graph.Output[0].Name];
        var ort = OrtPeer.Run(model, x, Dims, values);

        var net = OnnxImporter.Import(model);
        net.Eval();
        using var _ = GradMode.NoGrad();
        var mine = net.Run(new Var(Tensor.FromArray(x, Dims)), values);
        foreach (var v in values)
        {
            Assert.Equal(ort[v].Dims, mine[v].Shape.ToArray());
            double err = OrtPeer.MaxRelativeError(mine[v].Value.Span, ort[v].Data);
            output.WriteLine($"{v,-22} {string.Join("x", ort[v].Dims),-12} max |nanoq − ort| / max |ort| = {err:E2}");
            Assert.True(err < 1e-4, $"{v}: max relative error {err:E2}");
        }
    }

    [Fact]
    public void Maps_onto_conv_units_and_adds()
    {
        // This CNTK "ResNet-18" has blocks [2, 2, 2, 3] (torchvision's has [2, 2, 2, 2]): 22 convs, 9 adds, no fc.
        var net = OnnxImporter.Load(Path);
        var taps = net.NamedTaps().Select(t => t.Tap).ToList();
        var units = taps.OfType<ConvUnit>().ToList();
        Assert.Equal(22, units.Count); // stem + 18 block convs + 3 downsamples
        Assert.All(units, u => Assert.NotNull(u.Bn));
        Assert.Equal(["input", "Pooling395"], net.NamedTaps().Where(t => t.Tap is ActivationSite && !t.Name.EndsWith(".out")).Select(t => t.Name));
        Assert.Equal(9, taps.OfType<AddUnit>().Count());
        Assert.All(taps.OfType<AddUnit>(), a => Assert.Equal(ActivationKind.Relu, a.Activation));
        // torchvision resnet18 less its fc (512·1000 + 1000), plus the third block of stage 4 (2 convs 512·512·3·3, 2 BNs).
        Assert.Equal(11_689_512 - 513_000 + 2 * 512 * 512 * 9 + 2 * 2 * 512, net.ParameterCount());
    }

    [Fact]
    public void Backbone_finds_c2_to_c5_and_stops_there()
    {
        var backbone = OnnxBackbone.Load(Path);
        Assert.Equal(StageValues, backbone.StageValues);
        Assert.Equal([64, 128, 256, 512], backbone.StageChannels);
        backbone.Eval();
        using var _ = GradMode.NoGrad();
        // A detector's input size: 160 px (no 7×7 average pool runs, so any multiple of 32 works).
        var c = backbone.Stages(new Var(Tensor.Zeros(2, 3, 160, 128)));
        Assert.Equal([[2, 64, 40, 32], [2, 128, 20, 16], [2, 256, 10, 8], [2, 512, 5, 4]], c.Select(v => v.Shape.ToArray()));
        Assert.StartsWith("graph.Convolution249", backbone.NamedTaps().First().Name);
        // Cut after C5: the average pool (and its site) is not built.
        Assert.DoesNotContain(backbone.NamedTaps(), t => t.Name.Contains("Pooling395"));
        Assert.Equal("graph.Plus391", backbone.NamedTaps().Last().Name);
    }

    [Fact]
    public void Backbone_quantizes_and_calibrates_like_a_native_one()
    {
        var backbone = OnnxBackbone.ResNet18ImageNet(Path);
        // 8 bits with min/max ranges (P off): on this noise input the percentile ranges of FQN clip the heavy tails on
        // purpose (measured ‖q − f‖ / ‖f‖ 0.08–0.15 at C2–C5 with P, 0.02–0.035 without).
        var registry = ModelQuantizer.Install(backbone, QuantRecipe.Fqn(8) with { P = false });
        Assert.Equal(22 * 2 + 9, registry.Count); // weight + output per conv unit, one per add's output site
        var rng = new GraphBuilder("x", [1], seed: 9);
        var batches = Enumerable.Range(0, 2).Select(_ => Tensor.FromArray(rng.RandomInput(2 * 3 * 64 * 64, 2f), 2, 3, 64, 64)).ToList();
        Calibrator.Calibrate(backbone, batches, b => backbone.Stages(new Var(b)), nCal: 2); // throws if a quantizer saw no data
        backbone.Eval();
        using var _ = GradMode.NoGrad();
        var q = backbone.Stages(new Var(batches[0]));
        ModelQuantizer.Remove(backbone);
        var f = backbone.Stages(new Var(batches[0]));
        for (int s = 0; s < 4; s++)
        {
            var a = q[s].Value.ToArray();
            var b = f[s].Value.ToArray();
            double rms = Math.Sqrt(a.Zip(b, (u, v) => (double)(u - v) * (u - v)).Sum() / b.Sum(v => (double)v * v));
            output.WriteLine($"C{s + 2}: 8-bit fake-quant vs float, ‖q − f‖ / ‖f‖ = {rms:E2}, max rel. {OrtPeer.MaxRelativeError(a, b):E2}");
            Assert.True(rms is > 0 and < 0.06, $"C{s + 2}: {rms}");
        }
    }

    /// <summary>
    /// The imported backbone converts to the integer program, its uneven CNTK paddings as slice ops (the crop of the extra
    /// trailing row and column), and runs on codes close to the fake-quant model's: shapes equal at C2–C5, codes within
    /// a step or two end to end through 22 layers (the end-to-end compounding the detectors' agreement tests bound).
    /// </summary>
    [Fact]
    public void Backbone_converts_to_the_integer_program_crops_included()
    {
        var net = new Wrapped(new Nn.Taps.ActivationSite(), OnnxBackbone.ResNet18ImageNet(Path));
        ModelQuantizer.Install(net, QuantRecipe.Fqn(8));
        var rng = new GraphBuilder("x", [1], seed: 11);
        // 66 px: conv1 gives 33, an odd size, where the max pool's pads [1, 1, 0, 0] crop a row and a column (at multiples
        // of 32 nothing crops; odd sizes deeper in this graph would not fit its own shortcuts).
        var batches = Enumerable.Range(0, 2).Select(_ => Tensor.FromArray(rng.RandomInput(2 * 3 * 66 * 66, 2f), 2, 3, 66, 66)).ToList();
        Calibrator.Calibrate(net, batches, b => net.Stages(new Var(b)), nCal: 2);
        net.Eval();
        var integer = Quant.Convert.ProgramConverter.Convert(net, x => net.Stages(x), batches[0], Kernels.Integer.RequantRounding.Double, new Dictionary<string, string>());
        int slices = integer.Program.Ops.Count(o => o.Kind == "slice");
        Assert.True(slices > 0, "the uneven paddings should appear as slice ops");
        var got = integer.Run(batches[1]);
        Tensor[] want;
        using (GradMode.NoGrad())
        using (new Tape())
            want = net.Stages(new Var(batches[1])).Select(v => v.Value.Clone()).ToArray();
        for (int s = 0; s < 4; s++)
        {
            Assert.Equal(want[s].Shape.ToArray(), got[s].Shape.ToArray());
            var g = integer.Grid(integer.Program.Outputs[s]);
            var a = FakeQuant.Codes(want[s], g);
            var b = FakeQuant.Codes(got[s], g);
            double mean = a.Zip(b, (u, v) => (double)Math.Abs(u - v)).Average();
            output.WriteLine($"C{s + 2}: {slices} slice ops in the program; 8-bit integer vs fake-quant codes, mean |Δq| {mean:F3}");
            Assert.True(mean < 1.0, $"C{s + 2}: mean |Δq| {mean:F3}");
        }
        // Another size would need another crop: refused, not wrong.
        var other = Tensor.FromArray(rng.RandomInput(1 * 3 * 64 * 64, 2f), 1, 3, 64, 64);
        var e = Assert.Throws<ArgumentException>(() => integer.Run(other));
        Assert.Contains("convert at the size you run", e.Message);
    }

    /// <summary>An input site (the image's grid, as a detector's "input" tap) in front of the backbone.</summary>
    private sealed class Wrapped : Nn.Module
    {
        private readonly Nn.Taps.ActivationSite _input;
        private readonly OnnxBackbone _backbone;

        public Wrapped(Nn.Taps.ActivationSite input, OnnxBackbone backbone)
        {
            _input = Tap("input", input);
            _backbone = Child("backbone", backbone);
        }

        public IReadOnlyList<Var> Stages(Var x) => _backbone.Stages(_input.Forward(x));
    }

    [Fact]
    public void Resnet18_imagenet_takes_normalized_rgb()
    {
        // The named backbone folds (BGR, 0..255, minus mean) into conv1; compare with the plain import fed the
        // transformed input. Exact inside; at the image border the folded conv pads with the mean colour, not 0.
        var named = OnnxBackbone.ResNet18ImageNet(Path);
        var plain = OnnxBackbone.Load(Path);
        named.Eval(); plain.Eval();
        var bgrMean = OnnxBackbone.ResNet18ChannelMeans(Path);
        output.WriteLine($"mean image per channel (B, G, R): {string.Join(", ", bgrMean.Select(m => m.ToString("F2")))}");
        float[] mean = [0.485f, 0.456f, 0.406f], std = [0.229f, 0.224f, 0.225f];
        int h = 96, w = 96, plane = h * w;
        var rgb = new GraphBuilder("x", [1, 3, h, w], seed: 5).RandomInput(3 * plane, 2f); // normalized RGB
        var bgr = new float[3 * plane];
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < plane; i++)
                bgr[c * plane + i] = 255f * (std[2 - c] * rgb[(2 - c) * plane + i] + mean[2 - c]) - bgrMean[c];
        using var _ = GradMode.NoGrad();
        var a = named.Stages(new Var(Tensor.FromArray(rgb, 1, 3, h, w)));
        var b = plain.Stages(new Var(Tensor.FromArray(bgr, 1, 3, h, w)));
        // C2 (24×24) away from the border: conv1's padding reaches C2 pixels 0–1 through the max pool, and layer1's
        // four 3×3 convs widen that by 4, so pixels 6..17 are computed from real pixels only: exact up to rounding.
        var a2 = a[0].Value; var b2 = b[0].Value;
        double inner = 0, scale = 0;
        for (int ch = 0; ch < 64; ch++)
            for (int y = 6; y < 18; y++)
                for (int x = 6; x < 18; x++)
                {
                    inner = Math.Max(inner, Math.Abs(a2[0, ch, y, x] - b2[0, ch, y, x]));
                    scale = Math.Max(scale, Math.Abs(b2[0, ch, y, x]));
                }
        output.WriteLine($"C2 interior: max |folded − plain| / max |plain| = {inner / scale:E2}");
        Assert.True(inner / scale < 1e-4);
        for (int s = 0; s < 4; s++)
        {
            double err = OrtPeer.MaxRelativeError(a[s].Value.Span, b[s].Value.Span);
            output.WriteLine($"C{s + 2} whole map: {err:E2}");
            Assert.True(err < 0.05, $"C{s + 2}: {err}");
        }
        // Batch norm comes frozen: training mode uses the imported statistics too.
        named.Train();
        Assert.Equal(a[3].Value.ToArray(), named.Stages(new Var(Tensor.FromArray(rgb, 1, 3, h, w)))[3].Value.ToArray());
    }

    [Fact]
    public void Figure_2_statistics_of_the_real_weights()
    {
        var net = OnnxImporter.Load(Path);
        foreach (bool fold in new[] { true, false })
        {
            var layers = WeightRangeRatios.Compute(net, fold);
            Assert.Equal(22, layers.Count);
            var all = layers.SelectMany(l => l.ChannelDb).ToList();
            var spreads = layers.Select(l => l.SpreadDb).ToList();
            output.WriteLine($"{(fold ? "BN folded" : "raw conv")} weights: {all.Count} channels in {layers.Count} conv layers; " +
                             $"20·log10(R_layer / r_c) dB: p10 {P(all, 10):F1}, median {P(all, 50):F1}, p90 {P(all, 90):F1}, p99 {P(all, 99):F1}, max {all.Where(double.IsFinite).Max():F1}; " +
                             $"share ≥ 6 dB {all.Count(d => d >= 6) / (double)all.Count:P0}, ≥ 12 dB {all.Count(d => d >= 12) / (double)all.Count:P0}, ≥ 20 dB {all.Count(d => d >= 20) / (double)all.Count:P0}; " +
                             $"per-layer max/min spread dB: median {P(spreads, 50):F1}, max {spreads.Max():F1}");
            if (fold)
                output.WriteLine("  histogram (2 dB bins): " + string.Join(" ", WeightRangeRatios.Histogram(all).Select(b => $"[{b.Lo:F0},{b.Hi:F0}):{b.Count}")));
            if (fold)
                foreach (var l in layers)
                    output.WriteLine($"  {l.Name,-24} median {P(l.ChannelDb, 50),5:F1} dB  max {l.ChannelDb.Where(double.IsFinite).Max(),5:F1} dB  spread {l.SpreadDb,5:F1} dB");
            Assert.All(all, d => Assert.True(d >= 0));
        }
    }

    private static double P(IEnumerable<double> v, double p) => WeightRangeRatios.Percentile(v, p);
}
