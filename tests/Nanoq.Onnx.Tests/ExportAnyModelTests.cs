using Nanoq.Autograd;
using Nanoq.Nn;
using Nanoq.Nn.Layers;
using Nanoq.Nn.Taps;
using Nanoq.Quant;
using Nanoq.Quant.Taps;
using Xunit.Abstractions;

namespace Nanoq.Onnx.Tests;

/// <summary>
/// A model the exporter has never seen (tests/Nanoq.Quant.Tests AnyModelConvertsTests' zoo: concat, max pool, upsample,
/// residual add, a ReLU between layers, ReLU6, flatten, linear) exports with no model-specific code, float and QDQ, and
/// ONNX Runtime agrees with Nanoq.
/// </summary>
public class ExportAnyModelTests(ITestOutputHelper output)
{
    /// <summary>x → site → a = conv3×3+BN+ReLU → b = conv1×1(maxpool(a)) → s = add(a, upsample(b, like a)) → concat(s, a)
    /// → relu(conv3×3 s2) → relu6(·) → flatten → linear.</summary>
    private sealed class Zoo : Module
    {
        public Zoo(Rng rng)
        {
            var c1 = Child("c1", new Conv2d(3, 6, 3, padding: 1, rng: rng));
            var bn = Child("bn1", new BatchNorm2d(6));
            rng.FillUniform(bn.Weight.Value.Span, 0.5f, 1.5f);
            rng.FillNormal(bn.Bias.Value.Span, 0f, 0.3f);
            rng.FillNormal(bn.RunningMean.Span, 0f, 0.3f);
            rng.FillUniform(bn.RunningVar.Span, 0.5f, 2f);
            var c2 = Child("c2", new Conv2d(6, 6, 1, rng: rng));
            var c3 = Child("c3", new Conv2d(12, 4, 3, stride: 2, padding: 1, rng: rng));
            var fc = Child("fc", new Linear(4 * 4 * 4, 5, rng: rng));
            Input = Tap("input", new ActivationSite());
            A = Tap("a", new ConvUnit(c1, bn, ActivationKind.Relu));
            B = Tap("b", new ConvUnit(c2, null, ActivationKind.None));
            S = Tap("s", new AddUnit(ActivationKind.None));
            R = Tap("r", new ConvUnit(c3, null, ActivationKind.None));
            Y = Tap("y", new LinearUnit(fc, ActivationKind.None));
        }

        public ActivationSite Input { get; }
        public ConvUnit A { get; }
        public ConvUnit B { get; }
        public AddUnit S { get; }
        public ConvUnit R { get; }
        public LinearUnit Y { get; }

        public Var Forward(Var x)
        {
            x = Input.Forward(x);
            var a = A.Forward(x);
            var b = B.Forward(Fn.MaxPool2d(a, 2, 2));
            var s = S.Forward(a, Fn.UpsampleNearest(b, a));
            var r = Fn.Relu6(Fn.Relu(R.Forward(Fn.Concat([s, a], 1))));
            return Y.Forward(Fn.Flatten(r));
        }
    }

    [Theory]
    [InlineData(false, 4)]
    [InlineData(true, 4)]
    [InlineData(true, 8)]
    public void ExportsAndAgrees(bool quantized, int bits)
    {
        var rng = new Rng(17);
        var zoo = new Zoo(rng);
        if (quantized)
        {
            ModelQuantizer.Install(zoo, QuantRecipe.Fqn(bits));
            var batches = Enumerable.Range(0, 4).Select(_ => rng.Normal(new Shape(2, 3, 8, 8))).ToList();
            Calibrator.Calibrate(zoo, batches, b => zoo.Forward(new Var(b)), 4);
        }
        zoo.Eval();
        var onnx = OnnxExporter.Export(zoo, x => [zoo.Forward(x)], Tensor.Zeros(1, 3, 8, 8), quantized);
        string[] expected = ["Conv", "Relu", "MaxPool", "Conv", "Resize", "Add", "Concat", "Conv", "Relu", "Clip", "Flatten", "Gemm"];
        Assert.Equal(quantized ? expected : ["Identity", .. expected], Filter(onnx, quantized));

        var images = rng.Normal(new Shape(40, 3, 8, 8)); // another batch size than the trace's
        Tensor want;
        using (GradMode.NoGrad()) using (new Tape()) want = zoo.Forward(new Var(images)).Value.Clone();
        var got = OrtPeer.Run(onnx, images.ToArray(), images.Shape.ToArray(), ["output_0"])["output_0"];
        Assert.Equal([40, 5], got.Dims);
        if (!quantized)
        {
            double err = OrtPeer.MaxRelativeError(got.Data, want.Span);
            output.WriteLine($"zoo float export: max relative error {err:G3}");
            Assert.True(err < 1e-4, $"max relative error {err}");
            return;
        }
        var grid = OnnxExporter.OutputGrids(onnx)["output_0"];
        var a = FakeQuant.Codes(want, grid);
        var b = FakeQuant.Codes(Tensor.FromArray(got.Data, got.Dims), grid);
        int same = 0, max = 0;
        for (int i = 0; i < a.Length; i++)
        {
            if (a[i] == b[i]) same++;
            max = Math.Max(max, Math.Abs(a[i] - b[i]));
        }
        output.WriteLine($"zoo {bits}-bit QDQ export: {same}/{a.Length} output codes identical, max {max} step");
        Assert.True(same >= 0.99 * a.Length, $"{same}/{a.Length}");
        Assert.True(max <= 1, $"max step {max}");
    }

    [Fact]
    public void SavedFileRunsInOnnxRuntime()
    {
        var zoo = new Zoo(new Rng(3));
        zoo.Eval();
        var onnx = OnnxExporter.Export(zoo, x => [zoo.Forward(x)], Tensor.Zeros(1, 3, 8, 8), quantized: false,
            new OnnxExportOptions { DynamicShape = false, OutputNames = ["logits"] });
        string path = Path.Combine(Path.GetTempPath(), $"nanoq-export-{Guid.NewGuid():N}.onnx");
        try
        {
            OnnxExporter.Save(onnx, path);
            using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(path);
            Assert.Equal([1, 3, 8, 8], session.InputMetadata["images"].Dimensions);
            Assert.Equal("logits", session.OutputMetadata.Keys.Single());
            var x = new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(new float[3 * 64], [1, 3, 8, 8]);
            using var r = session.Run([Microsoft.ML.OnnxRuntime.NamedOnnxValue.CreateFromTensor("images", x)]);
            Assert.Equal([1, 5], r.Single().AsTensor<float>().Dimensions.ToArray());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void QdqExportOfAFloatModelIsRefusedNamingTheTap()
    {
        var zoo = new Zoo(new Rng(3));
        var e = Assert.Throws<InvalidOperationException>(() => OnnxExporter.Export(zoo, x => [zoo.Forward(x)], Tensor.Zeros(1, 3, 8, 8), quantized: true));
        Assert.Contains("'input'", e.Message);
        Assert.Contains("no output quantizer", e.Message);
    }

    [Fact]
    public void FloatComputationBetweenLayersIsRefusedNamingTheReader()
    {
        var zoo = new Zoo(new Rng(3));
        Var Sneaky(Var x) => zoo.B.Forward(Fn.Scale(zoo.A.Forward(zoo.Input.Forward(x)), 2f));
        var e = Assert.Throws<NotSupportedException>(() => OnnxExporter.Export(zoo, x => [Sneaky(x)], Tensor.Zeros(1, 3, 8, 8), quantized: false));
        Assert.Contains("'b'", e.Message);
        Assert.Contains("no tap or traced op", e.Message);
    }

    /// <summary>The graph's compute ops in order: Q/DQ pairs, their 4-bit Clips, the weight DQs and Resize's shape reads left out.</summary>
    private static string[] Filter(Proto.ModelProto onnx, bool quantized) =>
        onnx.Graph.Node.Where(n => n.OpType is not ("QuantizeLinear" or "DequantizeLinear" or "Shape")
                                   && !(n.OpType == "Clip" && n.Name.EndsWith(".clip", StringComparison.Ordinal))
                                   && !(n.OpType == "Concat" && n.Name.EndsWith(".sizes", StringComparison.Ordinal))
                                   && !(n.OpType == "Identity" && (quantized || n.Name.EndsWith(".out", StringComparison.Ordinal))))
            .Select(n => n.OpType).ToArray();
}
