using Nanoq.Autograd;
using Nanoq.Detection;
using Nanoq.Nn.Layers;
using Nanoq.Onnx.Proto;
using Nanoq.Quant;
using Nanoq.Quant.Taps;
using Xunit.Abstractions;

namespace Nanoq.Onnx.Tests;

/// <summary>
/// Export (issue 16): a tiny RetinaNet exported float and QDQ, run by ONNX Runtime, against Nanoq's float and fake-quant
/// raw head outputs.
/// </summary>
public class ExportTests(ITestOutputHelper output)
{
    private static RetinaNetConfig Tiny(string backbone) =>
        RetinaNetConfig.Small(2) with { Backbone = backbone, BackboneWidth = 0.125f, FpnChannels = 16, HeadConvs = 1, InputSize = 64 };

    [Theory]
    [InlineData("resnet18")]
    [InlineData("mobilenet_v2")]
    public void FloatExportMatchesNanoq(string backbone)
    {
        var model = new RetinaNet(Tiny(backbone), 5);
        Randomize(model, new Rng(105), liveHeads: true);
        model.Eval();
        var onnx = OnnxExporter.Export(model, x => model.Forward(x).Outputs, Tensor.Zeros(1, 3, 64, 64), quantized: false);
        // One export, two batch and image sizes (the graph's batch, height and width are symbolic).
        foreach (var (n, size) in new[] { (2, 64), (1, 96) })
        {
            var images = Images(new Rng(7), n, size);
            var reference = Forward(model, images);
            var ort = RunAll(onnx, images, reference.Length);
            double worst = 0;
            for (int i = 0; i < reference.Length; i++)
            {
                Assert.Equal(reference[i].Shape.ToArray(), ort[i].Dims);
                worst = Math.Max(worst, OrtPeer.MaxRelativeError(ort[i].Data, reference[i].Span));
            }
            output.WriteLine($"{backbone} float export, {n}×3×{size}×{size}: max relative error {worst:G3} over {reference.Length} outputs");
            Assert.True(worst < 1e-4, $"max relative error {worst}");
        }
    }

    /// <summary>
    /// The issue's criterion: ONNX Runtime's QDQ head-output codes vs Nanoq's fake-quant ones, end to end (no teacher
    /// forcing), identical on ≥ 99 % and never more than one step apart — met by the canonical graph at 4 bits, and at
    /// 8 bits by the graph that quantizes as Nanoq does (<see cref="OnnxExportOptions.NanoqRounding"/>).
    /// </summary>
    [Theory]
    [InlineData("resnet18", 4, false)]
    [InlineData("mobilenet_v2", 4, false)]
    [InlineData("resnet18", 8, true)]
    [InlineData("mobilenet_v2", 8, true)]
    [InlineData("resnet18", 4, false, true)]
    [InlineData("mobilenet_v2", 4, false, true)]
    public void QdqExportMatchesFakeQuant(string backbone, int bits, bool nanoqRounding, bool fourBitTypes = false)
    {
        var (rate, maxStep, _) = MeasureQdq(backbone, bits, nanoqRounding, fourBitTypes);
        Assert.True(rate >= 0.99, $"identical-code rate {rate:P3}");
        Assert.True(maxStep <= 1, $"max step {maxStep}");
    }

    /// <summary>
    /// The canonical 8-bit graph (QuantizeLinear's x / Δ) against Nanoq's round(x · float32(1/Δ)): the two land on
    /// different codes where x/Δ is within a float32 rounding of a half — about one value in 10⁴ at 8 bits, where codes
    /// reach 255 and a float32 ulp is ~2·10⁻⁵ of a step — and each such step then compounds through ~20 layers (with
    /// <see cref="OnnxExportOptions.NanoqRounding"/> the same graph agrees ≥ 99 %, above). Measured (4 images, 64 px):
    /// resnet18 85.7 % identical, max 7 steps. Measured and bounded loosely, as the integer model's end-to-end agreement
    /// is (tests/Nanoq.Detection.Tests IntegerAgreementTests).
    /// </summary>
    [Theory]
    [InlineData("resnet18")]
    [InlineData("mobilenet_v2")]
    public void CanonicalEightBitQdqDriftsOnlyThroughDivisionTies(string backbone)
    {
        var (rate, _, mean) = MeasureQdq(backbone, 8, nanoqRounding: false);
        Assert.True(rate >= 0.5, $"identical-code rate {rate:P3}");
        Assert.True(mean <= 0.5, $"mean |Δq| {mean:F3}");
    }

    private (double Rate, int MaxStep, double MeanStep) MeasureQdq(string backbone, int bits, bool nanoqRounding, bool fourBitTypes = false)
    {
        var config = Tiny(backbone);
        var model = new RetinaNet(config, 5);
        var rng = new Rng(105);
        Randomize(model, rng, liveHeads: true);
        ModelQuantizer.Install(model, QuantRecipe.Fqn(bits));
        var batches = Enumerable.Range(0, 3).Select(_ => Images(rng, 2, config.InputSize)).ToList();
        Calibrator.Calibrate(model, batches, b => model.Forward(new Var(b)), batches.Count);
        model.Eval();

        var onnx = OnnxExporter.Export(model, x => model.Forward(x).Outputs, Tensor.Zeros(1, 3, 64, 64), quantized: true,
            new OnnxExportOptions { NanoqRounding = nanoqRounding, FourBitTypes = fourBitTypes });
        if (fourBitTypes) Assert.Contains(onnx.Graph.Initializer, t => t.DataType == (int)Proto.TensorProto.Types.DataType.Uint4);
        var grids = OnnxExporter.OutputGrids(onnx);
        var images = Images(new Rng(9), 4, 64);
        var reference = Forward(model, images);
        var ort = RunAll(onnx, images, reference.Length);
        long same = 0, total = 0, sum = 0;
        int maxStep = 0;
        var distinct = new HashSet<int>();
        for (int i = 0; i < reference.Length; i++)
        {
            var g = grids[$"output_{i}"];
            Assert.Equal(reference[i].Shape.ToArray(), ort[i].Dims);
            var a = FakeQuant.Codes(reference[i], g);
            var b = FakeQuant.Codes(Tensor.FromArray(ort[i].Data, ort[i].Dims), g);
            for (int j = 0; j < a.Length; j++)
            {
                int d = Math.Abs(a[j] - b[j]);
                if (d == 0) same++;
                sum += d;
                maxStep = Math.Max(maxStep, d);
                distinct.Add(i * 256 + a[j]);
            }
            total += a.Length;
        }
        double rate = same / (double)total, mean = sum / (double)total;
        output.WriteLine($"{backbone} {bits}-bit QDQ export ({(nanoqRounding ? "Nanoq rounding" : "canonical")}{(fourBitTypes ? ", uint4 opset 21" : "")}): {same}/{total} head-output codes identical ({rate:P3}), mean |Δq| {mean:F4}, max {maxStep} step; {distinct.Count} distinct (output, code) pairs");
        return (rate, maxStep, mean);
    }

    /// <summary>
    /// A proxy for the issue's "within 0.5 AP of the integer model" (no trained model or data set here): the QDQ export's
    /// detections (ONNX Runtime's raw outputs through RetinaNet's own postprocessing) against the integer model's, as
    /// tests/Nanoq.Detection.Tests IntegerDetectionTests matches the fake-quant model's: same class, IoU &gt; 0.5.
    /// </summary>
    [Theory]
    [InlineData("resnet18")]
    [InlineData("mobilenet_v2")]
    public void QdqDetectionsMatchTheIntegerModels(string backbone)
    {
        var config = Tiny(backbone) with { ScoreThreshold = 0f, MaxDetections = 100 };
        var model = new RetinaNet(config, 41);
        var rng = new Rng(141);
        Randomize(model, rng, liveHeads: false);
        ModelQuantizer.Install(model, QuantRecipe.Fqn(8));
        var batches = Enumerable.Range(0, 3).Select(_ => Images(rng, 2, config.InputSize)).ToList();
        Calibrator.Calibrate(model, batches, b => model.Forward(new Var(b)), batches.Count);
        model.Eval();
        var integer = Detectors.Convert(model, Tensor.Zeros(1, 3, 64, 64));
        var onnx = OnnxExporter.Export(model, x => model.Forward(x).Outputs, Tensor.Zeros(1, 3, 64, 64), quantized: true);

        var images = Images(new Rng(9), 2, 64);
        var sizes = new[] { (64, 64), (64, 60) };
        var want = integer.Detect(images, sizes);
        var ort = RunAll(onnx, images, 10);
        var got = model.Postprocess(new DetectorOutput(ort.Select(o => new Var(Tensor.FromArray(o.Data, o.Dims))).ToList(), 64, 64), sizes);

        int matched = 0, total = 0;
        double iouSum = 0, scoreDiff = 0;
        for (int i = 0; i < want.Count; i++)
        {
            var used = new bool[got[i].Count];
            for (int a = 0; a < want[i].Count; a++)
            {
                total++;
                int best = -1;
                float bestIou = 0.5f;
                for (int b = 0; b < got[i].Count; b++)
                {
                    if (used[b] || got[i].Labels[b] != want[i].Labels[a]) continue;
                    float iou = Iou(want[i].Boxes.AsSpan(4 * a, 4), got[i].Boxes.AsSpan(4 * b, 4));
                    if (iou > bestIou) (best, bestIou) = (b, iou);
                }
                if (best < 0) continue;
                used[best] = true;
                matched++;
                iouSum += bestIou;
                scoreDiff = Math.Max(scoreDiff, Math.Abs(want[i].Scores[a] - got[i].Scores[best]));
            }
        }
        double rate = (double)matched / Math.Max(1, total), meanIou = iouSum / Math.Max(1, matched);
        output.WriteLine($"{backbone} 8-bit: {matched} of {total} integer-model detections have an ONNX Runtime QDQ twin (same class, IoU > 0.5): {rate:P1}, mean IoU {meanIou:F3}, max |Δscore| {scoreDiff:G3}");
        Assert.True(total > 0);
        Assert.True(rate >= 0.9, $"only {rate:P1} matched");
        Assert.True(meanIou >= 0.9, $"mean IoU {meanIou:F3}");
    }

    private static float Iou(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        float iw = Math.Max(0, Math.Min(a[2], b[2]) - Math.Max(a[0], b[0])), ih = Math.Max(0, Math.Min(a[3], b[3]) - Math.Max(a[1], b[1]));
        float inter = iw * ih, union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
        return union > 0 ? inter / union : 0;
    }

    [Fact]
    public void QdqExportStoresCodesInUint8WithPerChannelDequantize()
    {
        var config = Tiny("resnet18");
        var model = new RetinaNet(config, 5);
        var rng = new Rng(105);
        ModelQuantizer.Install(model, QuantRecipe.Fqn(4));
        var batches = new List<Tensor> { Images(rng, 2, 64) };
        Calibrator.Calibrate(model, batches, b => model.Forward(new Var(b)), 1);
        model.Eval();
        var onnx = OnnxExporter.Export(model, x => model.Forward(x).Outputs, Tensor.Zeros(1, 3, 64, 64), quantized: true);
        var inits = onnx.Graph.Initializer.ToDictionary(t => t.Name);
        var weightDq = onnx.Graph.Node.Where(n => n.OpType == "DequantizeLinear" && n.Name.EndsWith(".weight_dq", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(weightDq);
        foreach (var n in weightDq)
        {
            var codes = inits[n.Input[0]];
            Assert.Equal((int)TensorProto.Types.DataType.Uint8, codes.DataType);
            Assert.All(codes.RawData.ToByteArray(), c => Assert.InRange(c, 0, 15)); // 4-bit codes in the 8-bit container
            Assert.Equal(0, n.Attribute.Single(a => a.Name == "axis").I);
            Assert.Equal(codes.Dims[0], inits[n.Input[1]].Dims.Single());
        }
        // Every activation's grid: a Clip before each QuantizeLinear (4 bits in uint8).
        var produced = onnx.Graph.Node.ToDictionary(n => n.Output[0]);
        foreach (var q in onnx.Graph.Node.Where(n => n.OpType == "QuantizeLinear"))
            Assert.Equal("Clip", produced[q.Input[0]].OpType);
    }

    /// <summary>
    /// Faster R-CNN's export is its first stage (RPN maps and P2–P5; proposals and RoIAlign need the host): float within
    /// 1e-4 relative of Nanoq, QDQ at 4 bits on the fake-quant codes (≥ 99 % identical, at most one step).
    /// </summary>
    [Fact]
    public void FasterRcnnFirstStageExportsFloatAndQdq()
    {
        var config = FasterRcnnConfig.Small(2) with { BackboneWidth = 0.125f, FpnChannels = 8, AnchorSize = 8, InputSize = 64, RepresentationSize = 32, RoiCanonicalScale = 56 };
        var model = new FasterRcnn(config, 5);
        var rng = new Rng(205);
        foreach (var (_, m) in model.NamedModules())
            if (m is BatchNorm2d bn)
                for (int c = 0; c < bn.Channels; c++)
                {
                    bn.RunningMean.Span[c] = rng.Normal(0f, 0.2f);
                    bn.RunningVar.Span[c] = rng.Uniform(0.5f, 2f);
                }
        model.Eval();
        var images = Images(new Rng(9), 2, 64);
        Tensor[] Stage(FasterRcnn m)
        {
            using var _ = GradMode.NoGrad();
            using var tape = new Tape();
            return m.FirstStage(new Var(images)).Select(v => v.Value.Clone()).ToArray();
        }

        var floatOnnx = OnnxExporter.Export(model, model.FirstStage, Tensor.Zeros(1, 3, 64, 64), quantized: false);
        var want = Stage(model);
        Assert.Equal(5 + 5 + 4, want.Length); // objectness and deltas of P2–P6, then P2–P5
        var got = RunAll(floatOnnx, images, want.Length);
        double worst = 0;
        for (int i = 0; i < want.Length; i++)
        {
            Assert.Equal(want[i].Shape.ToArray(), got[i].Dims);
            worst = Math.Max(worst, OrtPeer.MaxRelativeError(got[i].Data, want[i].Span));
        }
        output.WriteLine($"Faster R-CNN first stage, float export: max relative error {worst:G3}");
        Assert.True(worst < 1e-4, $"max relative error {worst}");

        ModelQuantizer.Install(model, QuantRecipe.Fqn(4));
        var batches = Enumerable.Range(0, 3).Select(_ => Images(rng, 2, 64)).ToList();
        Calibrator.Calibrate(model, batches, b => model.Forward(new Var(b)), batches.Count);
        model.Eval();
        var qdq = OnnxExporter.Export(model, model.FirstStage, Tensor.Zeros(1, 3, 64, 64), quantized: true);
        var grids = OnnxExporter.OutputGrids(qdq);
        want = Stage(model);
        got = RunAll(qdq, images, want.Length);
        long same = 0, total = 0;
        int maxStep = 0;
        for (int i = 0; i < want.Length; i++)
        {
            var g = grids[$"output_{i}"];
            var a = FakeQuant.Codes(want[i], g);
            var b = FakeQuant.Codes(Tensor.FromArray(got[i].Data, got[i].Dims), g);
            for (int j = 0; j < a.Length; j++)
            {
                int d = Math.Abs(a[j] - b[j]);
                if (d == 0) same++;
                maxStep = Math.Max(maxStep, d);
            }
            total += a.Length;
        }
        output.WriteLine($"Faster R-CNN first stage, 4-bit QDQ export: {same}/{total} codes identical ({(double)same / total:P3}), max {maxStep} step");
        Assert.True(same >= 0.99 * total, $"identical-code rate {(double)same / total:P3}");
        Assert.True(maxStep <= 1, $"max step {maxStep}");
    }

    private static Tensor[] Forward(RetinaNet model, Tensor images)
    {
        using var _ = GradMode.NoGrad();
        using var tape = new Tape();
        return model.Forward(new Var(images)).Outputs.Select(v => v.Value.Clone()).ToArray();
    }

    private static (float[] Data, int[] Dims)[] RunAll(ModelProto onnx, Tensor images, int count)
    {
        var names = Enumerable.Range(0, count).Select(i => $"output_{i}").ToList();
        var r = OrtPeer.Run(onnx, images.ToArray(), images.Shape.ToArray(), names);
        return names.Select(n => r[n]).ToArray();
    }

    /// <summary>As after training (tests/Nanoq.Detection.Tests' QuantizedDetector): BN statistics, affine parameters and conv biases random.</summary>
    private static void Randomize(RetinaNet model, Rng rng, bool liveHeads)
    {
        if (liveHeads)
        {
            foreach (var (_, m) in model.Head.NamedModules())
                if (m is Conv2d c) rng.FillNormal(c.Weight.Value.Span, 0f, 0.1f);
            var b = model.Head.ClsLogits.Conv.Bias!.Value.Span;
            for (int i = 0; i < b.Length; i++) b[i] = rng.Normal(-1f, 1f);
        }
        foreach (var (_, m) in model.NamedModules())
        {
            if (m is BatchNorm2d bn)
            {
                for (int c = 0; c < bn.Channels; c++)
                {
                    bn.RunningMean.Span[c] = rng.Normal(0f, 0.2f);
                    bn.RunningVar.Span[c] = rng.Uniform(0.5f, 2f);
                    bn.Weight.Value.Span[c] = rng.Uniform(0.5f, 1.5f);
                    bn.Bias.Value.Span[c] = rng.Normal(0f, 0.2f);
                }
            }
            if (m is Conv2d { Bias: not null } conv && conv != model.Head.ClsLogits.Conv)
                for (int c = 0; c < conv.OutChannels; c++) conv.Bias.Value.Span[c] = rng.Normal(0f, 0.05f);
        }
    }

    /// <summary>Normalized-looking images: noise plus a few bright and dark squares.</summary>
    private static Tensor Images(Rng rng, int n, int size)
    {
        var t = Tensor.Empty(n, 3, size, size);
        var px = t.Span;
        for (int i = 0; i < px.Length; i++) px[i] = rng.Normal(0f, 0.5f);
        for (int b = 0; b < n; b++)
            for (int o = 0; o < 3; o++)
            {
                int side = rng.NextInt(8, size / 2), x0 = rng.NextInt(0, size - side), y0 = rng.NextInt(0, size - side);
                float v = rng.Uniform(-2f, 2f);
                for (int c = 0; c < 3; c++)
                    for (int y = y0; y < y0 + side; y++)
                        for (int x = x0; x < x0 + side; x++) px[((b * 3 + c) * size + y) * size + x] = v + rng.Normal(0f, 0.1f);
            }
        return t;
    }
}
