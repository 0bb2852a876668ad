using Nanoq.Autograd;
using Nanoq.Nn.Taps;
using Nanoq.Onnx.Proto;
using Nanoq.Quant;
using Nanoq.Quant.Taps;
using static Nanoq.Onnx.Tests.GraphBuilder;

namespace Nanoq.Onnx.Tests;

/// <summary>A tiny graph with every supported op, built with the protobuf classes, run by Nanoq and by ONNX Runtime.</summary>
public class EveryOpTests(Xunit.Abstractions.ITestOutputHelper output)
{
    internal static readonly int[] InputDims = [2, 3, 16, 16];

    /// <summary>
    /// x [2,3,16,16] → Conv+BN+Relu (a) → Conv s2 pads [1,1,0,0] + Clip(0,6) (b) ; MaxPool s2 pads [1,1,0,0] (p) →
    /// Add+Relu (s) → Conv 1×1+bias → AveragePool 2 → Resize ×2 (scales from a Constant node) → Concat with s (cc) →
    /// BatchNormalization → Relu (r) → Mul const → Add const → Identity → GlobalAveragePool → Flatten → Gemm
    /// (transB, α, β) → Reshape [0, 2, 5] → Dropout → Flatten → MatMul (out [2, 4]).
    /// </summary>
    internal static ModelProto Build()
    {
        var g = new GraphBuilder("x", InputDims);
        g.Node("Conv", "c1", ["x", g.Random("W1", 0.4f, [8, 3, 3, 3]), g.Random("B1", 0.1f, [8])], ["c1o"],
               Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1), Ints("strides", 1, 1));
        g.Node("BatchNormalization", "bn1", ["c1o", g.Random("s1", 0.5f, [8], 0.75f), g.Random("b1", 0.2f, [8]),
               g.Random("mean1", 0.2f, [8]), g.Random("v1", 1f, [8], 0.5f)], ["bn1o"], Float("epsilon", 1e-3f));
        g.Node("Relu", "r1", ["bn1o"], ["a"]);
        g.Node("Conv", "c2", ["a", g.Random("W2", 0.2f, [8, 8, 3, 3])], ["c2o"], Ints("strides", 2, 2), Ints("pads", 1, 1, 0, 0));
        g.Node("Clip", "clip", ["c2o", g.Init("zero", [0f]), g.Init("six", [6f])], ["b"]);
        g.Node("MaxPool", "mp", ["a"], ["p"], Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Ints("pads", 1, 1, 0, 0));
        g.Node("Add", "add1", ["b", "p"], ["s0"]);
        g.Node("Relu", "r2", ["s0"], ["s"]);
        g.Node("Conv", "c3", ["s", g.Random("W3", 0.3f, [8, 8, 1, 1]), g.Random("B3", 0.1f, [8])], ["d"]);
        g.Node("AveragePool", "ap", ["d"], ["q"], Ints("kernel_shape", 2, 2), Ints("strides", 2, 2));
        g.Node("Constant", "scales_c", [], ["scales"], TensorAttr("value", OnnxTensors.FromFloats("", [1f, 1f, 2f, 2f], 4)));
        g.Node("Resize", "rs", ["q", "", "scales"], ["u"], Str("mode", "nearest"));
        g.Node("Concat", "cat", ["u", "s"], ["cc"], Int("axis", 1));
        g.Node("BatchNormalization", "bn2", ["cc", g.Random("s2", 0.5f, [16], 0.75f), g.Random("b2", 0.2f, [16]),
               g.Random("mean2", 0.2f, [16]), g.Random("v2", 1f, [16], 0.5f)], ["bn2o"]);
        g.Node("Relu", "r3", ["bn2o"], ["r"]);
        g.Node("Mul", "mul", ["r", g.Random("k", 1f, [1, 16, 1, 1], 0.5f)], ["m"]);
        g.Node("Add", "addc", ["m", g.Random("kb", 0.5f, [16, 1, 1])], ["m2"]);
        g.Node("Identity", "id", ["m2"], ["m3"]);
        g.Node("GlobalAveragePool", "gap", ["m3"], ["gp"]);
        g.Node("Flatten", "fl", ["gp"], ["f"]);
        g.Node("Gemm", "gemm", ["f", g.Random("Wg", 0.5f, [10, 16]), g.Random("Cg", 0.5f, [10])], ["h"],
               Int("transB", 1), Float("alpha", 0.5f), Float("beta", 2f));
        g.Node("Reshape", "rsh", ["h", g.InitInt64("shape", [0, 2, 5])], ["h2"]);
        g.Node("Dropout", "drop", ["h2"], ["h3"]);
        g.Node("Flatten", "fl2", ["h3"], ["h4"]);
        g.Node("MatMul", "mm", ["h4", g.Random("Wm", 0.5f, [10, 4])], ["out"]);
        g.Output("out");
        return g.Model;
    }

    private static float[] Input() => new GraphBuilder("x", InputDims, seed: 7).RandomInput(InputDims.Aggregate(1, (a, b) => a * b), 2f);

    [Fact]
    public void Every_supported_op_matches_onnx_runtime()
    {
        var model = Build();
        var x = Input();
        string[] values = ["a", "b", "p", "s", "q", "u", "cc", "r", "m3", "h", "out"];
        var ort = OrtPeer.Run(model, x, InputDims, values);

        var net = OnnxImporter.Import(model);
        net.Eval();
        using var _ = GradMode.NoGrad();
        var mine = net.Run(new Var(Tensor.FromArray(x, InputDims)), values);
        foreach (var v in values)
        {
            Assert.Equal(ort[v].Dims, mine[v].Shape.ToArray());
            double err = OrtPeer.MaxRelativeError(mine[v].Value.Span, ort[v].Data);
            output.WriteLine($"{v,-4} {string.Join("x", ort[v].Dims),-10} max |nanoq − ort| / max |ort| = {err:E2}");
            Assert.True(err < 1e-4, $"{v}: max relative error {err:E2}");
        }
        Assert.Equal(mine["out"].Value.ToArray(), net.Forward(new Var(Tensor.FromArray(x, InputDims))).Value.ToArray());
    }

    [Fact]
    public void Nodes_map_onto_conv_units_adds_and_sites()
    {
        var net = OnnxImporter.Import(Build());
        var taps = net.NamedTaps().ToList();
        var units = taps.Where(t => t.Tap is ConvUnit).Select(t => (ConvUnit)t.Tap).ToList();
        Assert.Equal(["c1", "c2", "c3"], taps.Where(t => t.Tap is ConvUnit).Select(t => t.Name));
        Assert.NotNull(units[0].Bn);
        Assert.Equal(ActivationKind.Relu, units[0].Activation);
        Assert.Null(units[1].Bn);
        Assert.Equal(ActivationKind.Relu6, units[1].Activation); // Clip(0, 6) fused
        Assert.Equal(ActivationKind.None, units[2].Activation);
        var add = Assert.IsType<AddUnit>(taps.Single(t => t.Name == "add1").Tap);
        Assert.Equal(ActivationKind.Relu, add.Activation);
        // Sites: the input and every value that leaves its input's grid (an add quantizes its own output).
        Assert.Equal(["input", "ap", "cat", "mul", "addc", "gap", "gemm", "mm"],
                     taps.Where(t => t.Tap is ActivationSite).Select(t => t.Name));
        Assert.Equal(["c1.weight", "c1.bias", "bn1.weight", "bn1.bias"], net.NamedParameters().Take(4).Select(p => p.Name));
        Assert.Contains(net.NamedBuffers(), b => b.Name == "bn1.running_var");
        Assert.Equal("Conv+BatchNormalization+Relu", net.Steps[0].OpTypes);
        var mp = net.Steps.Single(st => st.Name == "mp");
        Assert.IsType<Nn.Layers.MaxPool2d>(mp.Layer);
        Assert.Equal(new OnnxWindow(3, 2, 1, 1, 0), mp.Window);
        Assert.Equal(8, mp.Window!.Value.Out(16));
        var ex = Assert.Throws<ArgumentException>(() => net.Run(new Var(Tensor.Zeros(InputDims)), ["c1o"]));
        Assert.Contains("fused", ex.Message);
    }

    [Fact]
    public void Imported_graph_trains()
    {
        var net = OnnxImporter.Import(Build());
        net.Train();
        var x = new Var(Tensor.FromArray(Input(), InputDims));
        var loss = Fn.Sum(Fn.Square(net.Forward(x)));
        loss.Backward();
        foreach (var (name, p) in net.NamedParameters())
        {
            Assert.NotNull(p.Grad);
            Assert.True(p.Grad!.ToArray().All(float.IsFinite), name);
        }
        Assert.Contains(net.Parameters(), p => p.Grad!.ToArray().Any(v => v != 0));
        Assert.Contains(net.NamedParameters().Single(p => p.Name == "c1.weight").Param.Grad!.ToArray(), v => v != 0);
    }

    [Fact]
    public void State_dict_round_trips_through_a_safetensors_checkpoint()
    {
        // Train one SGD-like step so the weights differ from the file's, checkpoint, re-import, load: same output.
        var net = OnnxImporter.Import(Build());
        foreach (var p in net.Parameters()) Ops.AddInPlace(p.Value, 0.01f);
        string path = Path.Combine(Path.GetTempPath(), $"nanoq-onnx-{Guid.NewGuid():N}.safetensors");
        try
        {
            Nn.Checkpoints.Safetensors.Save(path, net.StateDict());
            var again = OnnxImporter.Import(Build());
            again.LoadStateDict(Nn.Checkpoints.Safetensors.Load(path));
            net.Eval(); again.Eval();
            using var _ = GradMode.NoGrad();
            var x = new Var(Tensor.FromArray(Input(), InputDims));
            Assert.Equal(net.Forward(x).Value.ToArray(), again.Forward(x).Value.ToArray());
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Imported_graph_quantizes_at_every_tap()
    {
        var net = OnnxImporter.Import(Build());
        var registry = ModelQuantizer.Install(net, QuantRecipe.Fqn(8));
        // A weight and an output quantizer per conv unit, one quantizer per site.
        Assert.Equal(3 * 2 + 9, registry.Count);
        var x = Tensor.FromArray(Input(), InputDims);
        Calibrator.Calibrate(net, [x], b => net.Forward(new Var(b)), nCal: 1);
        net.Eval();
        using var _ = GradMode.NoGrad();
        var q = net.Forward(new Var(x)).Value.ToArray();
        ModelQuantizer.Remove(net);
        var f = net.Forward(new Var(x)).Value.ToArray();
        double err = OrtPeer.MaxRelativeError(q, f);
        Assert.True(err is > 0 and < 0.1, $"8-bit fake-quant vs float: {err:E2}"); // quantized, and close at 8 bits
    }
}

/// <summary>Odd sizes: CNTK-style pads [1, 1, 0, 0] whose symmetric equivalent adds a row (cropped), resize to a size.</summary>
public class OddSizeTests
{
    [Fact]
    public void Short_end_padding_and_resize_to_sizes_match_onnx_runtime()
    {
        int[] dims = [1, 3, 15, 15];
        var g = new GraphBuilder("x", dims, seed: 3);
        g.Node("Conv", "c", ["x", g.Random("W", 0.4f, [4, 3, 3, 3]), g.Random("B", 0.1f, [4])], ["y"],
               Ints("strides", 2, 2), Ints("pads", 1, 1, 0, 0));                     // 15 → 7 (symmetric 1 would give 8)
        g.Node("MaxPool", "mp", ["y"], ["z"], Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Ints("pads", 1, 1, 0, 0)); // 7 → 3
        g.Node("Sub", "sub", ["z", g.Random("k1", 0.5f, [4, 1, 1])], ["z1"]);
        g.Node("Div", "div", [g.Random("k2", 1f, [1], 1f), "z1"], ["z2"]);        // constant first
        g.Node("Resize", "rs", ["z", "", "", g.InitInt64("sizes", [1, 4, 5, 5])], ["u"],
               Str("mode", "nearest"), Str("coordinate_transformation_mode", "asymmetric"), Str("nearest_mode", "floor"));
        g.Output("u");
        g.Output("z2");
        var x = g.RandomInput(dims.Aggregate(1, (a, b) => a * b), 2f);
        string[] values = ["y", "z", "z2", "u"];
        var ort = OrtPeer.Run(g.Model, x, dims, values);
        var net = OnnxImporter.Import(g.Model);
        using var _ = Autograd.GradMode.NoGrad();
        var mine = net.Run(new Autograd.Var(Tensor.FromArray(x, dims)), values);
        foreach (var v in values)
        {
            Assert.Equal(ort[v].Dims, mine[v].Shape.ToArray());
            Assert.True(OrtPeer.MaxRelativeError(mine[v].Value.Span, ort[v].Data) < 1e-5, v);
        }
        Assert.Equal(["u", "z2"], net.OutputNames);
    }
}

/// <summary>Older opsets: Clip's bounds as attributes, Upsample with a scales input (opset 9), Gemm without transB.</summary>
public class OldOpsetTests
{
    [Fact]
    public void Opset_9_graph_matches_onnx_runtime()
    {
        int[] dims = [2, 3, 8, 8];
        var g = new GraphBuilder("x", dims, opset: 9, seed: 4);
        g.Node("Conv", "c", ["x", g.Random("W", 0.5f, [4, 3, 3, 3])], ["y"], Ints("pads", 1, 1, 1, 1));
        g.Node("Clip", "clip", ["y"], ["r"], Float("min", 0f), Float("max", 6f));
        g.Node("Upsample", "up", ["r", g.Init("scales", [1f, 1f, 2f, 2f], 4)], ["u"], Str("mode", "nearest"));
        g.Node("MaxPool", "mp", ["u"], ["p"], Ints("kernel_shape", 4, 4), Ints("strides", 4, 4), Str("auto_pad", "VALID"));
        g.Node("Flatten", "fl", ["p"], ["f"]);
        g.Node("Gemm", "fc", ["f", g.Random("Wfc", 0.3f, [64, 5]), g.Random("bfc", 0.3f, [5])], ["out"]);
        g.Output("out");
        var x = g.RandomInput(dims.Aggregate(1, (a, b) => a * b), 2f);
        string[] values = ["r", "u", "p", "out"];
        var ort = OrtPeer.Run(g.Model, x, dims, values);
        var net = OnnxImporter.Import(g.Model);
        Assert.Equal(Nn.Taps.ActivationKind.Relu6, net.NamedTaps().Select(t => t.Tap).OfType<Nn.Taps.ConvUnit>().Single().Activation);
        using var _ = Autograd.GradMode.NoGrad();
        var mine = net.Run(new Autograd.Var(Tensor.FromArray(x, dims)), values);
        foreach (var v in values)
        {
            Assert.Equal(ort[v].Dims, mine[v].Shape.ToArray());
            Assert.True(OrtPeer.MaxRelativeError(mine[v].Value.Span, ort[v].Data) < 1e-5, v);
        }
    }
}
