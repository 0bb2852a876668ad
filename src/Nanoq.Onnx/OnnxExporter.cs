using System.Globalization;
using Google.Protobuf;
using Nanoq.Autograd;
using Nanoq.Nn;
using Nanoq.Nn.Taps;
using Nanoq.Onnx.Proto;
using Nanoq.Quant;
using Nanoq.Quant.Convert;
using Nanoq.Quant.Quantizers;
using Nanoq.Quant.Taps;

namespace Nanoq.Onnx;

/// <summary>
/// Export of any Nanoq network to ONNX (issue 16, export half) — float, or QDQ for a fake-quant model. No model's
/// topology is written here: as <see cref="ProgramConverter"/> does for the integer program, export traces one
/// evaluation-mode forward (<see cref="OpTrace"/>) and turns each recorded op into ONNX nodes:
/// <list type="bullet">
/// <item><see cref="ConvUnit"/> → Conv with batch norm folded with the running statistics
/// (<see cref="FoldedConv.Folded"/>) [→ Relu | Clip(0, 6)]; <see cref="AddUnit"/> → Add [→ Relu | Clip];
/// <see cref="LinearUnit"/> → Gemm(transB = 1) [→ Relu | Clip]; <see cref="ActivationSite"/> → Identity (float);</item>
/// <item>maxpool → MaxPool; upsample → Resize(nearest, asymmetric, floor) to the spatial size of the second value, read
/// with Shape at run time (src = ⌊dst / (out/in)⌋, equal to Nanoq's ⌊dst·in/out⌋ for integer ratios such as the FPN's 2×);
/// relu → Relu; relu6 → Clip(0, 6); concat → Concat; flatten → Flatten.</item>
/// </list>
/// QDQ (<c>quantized: true</c>, quantizers installed and calibrated, affine grids with integer zero points only):
/// every tap's output — the input site included — goes through Clip(lb′, ub′) → QuantizeLinear(Δ, z) →
/// DequantizeLinear(Δ, z) with uint8 zero points; the Clip keeps a k &lt; 8-bit grid's codes in [0, 2^k − 1] inside the
/// uint8 container (QuantizeLinear alone saturates at 255 only). Weights are stored as uint8 codes — the codes of the
/// folded weights on the weight quantizer's grid (<see cref="WeightCodes"/>), the very weights the fake-quant model
/// computes with — and reach Conv/Gemm through DequantizeLinear (per-channel Δ and z on axis 0, or per tensor). Biases
/// stay float, as in the fake-quant model (<see cref="FoldedConv"/>). Value-preserving ops need no Q/DQ pair: they keep
/// dequantized values on their grid.
/// <para>
/// Opset 17 (per-channel DequantizeLinear with uint8 needs 13, Shape's start/end 15). The graph input is
/// [batch, C, height, width] with symbolic dims, so one export runs any batch and image size the network accepts; the
/// outputs are the forward's raw outputs (for a detector, its head maps — postprocessing stays outside), named
/// output_0, output_1… (or <see cref="OnnxExportOptions.OutputNames"/>). A QDQ export records each output's grid in
/// the model's metadata (<see cref="OutputGrids"/>). QuantizeLinear divides (x / Δ) where Nanoq multiplies by float32 1/Δ;
/// <see cref="OnnxExportOptions.NanoqRounding"/> writes Nanoq's product instead, for verification.
/// </para>
/// A tensor that no recorded op produced (float computation between taps) is an error naming the op that reads it.
/// </summary>
public static class OnnxExporter
{
    /// <summary>The opset the exporter writes (default domain).</summary>
    public const long Opset = 17;

    /// <summary>The opset of an export with <see cref="OnnxExportOptions.FourBitTypes"/> (uint4 needs 21).</summary>
    public const long FourBitOpset = 21;

    /// <summary>
    /// Traces <paramref name="forward"/> (images → the network's raw outputs) on <paramref name="sample"/> in evaluation
    /// mode and exports it: float (<paramref name="quantized"/> false; quantizers, if installed, are ignored and batch
    /// norm folds with its running statistics) or QDQ (the fake-quant model).
    /// </summary>
    public static ModelProto Export(Module model, Func<Var, IReadOnlyList<Var>> forward, Tensor sample, bool quantized,
                                    OnnxExportOptions? options = null)
    {
        options ??= new OnnxExportOptions();
        _ = model.NamedTaps().ToList(); // walking the taps stores each one's full dotted name
        bool wasTraining = model.Training;
        model.Eval();
        try
        {
            using var _ = GradMode.NoGrad();
            using var tape = new Tape();
            var image = new Var(sample);
            var recorder = new Recorder(quantized, image, options);
            IReadOnlyList<Var> outputs;
            using (OpTrace.Record(recorder)) outputs = forward(image);
            return recorder.Finish(outputs);
        }
        finally
        {
            model.Train(wasTraining);
        }
    }

    /// <summary>Writes <paramref name="model"/> to <paramref name="path"/> (weights inside the file).</summary>
    public static void Save(ModelProto model, string path)
    {
        string tmp = path + ".tmp";
        using (var f = File.Create(tmp)) model.WriteTo(f);
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>The metadata key prefix of a QDQ export's output grids ("Δ z bits", invariant culture, Δ round-trips).</summary>
    public const string OutputGridKey = "nanoq.output_grid.";

    /// <summary>A QDQ export's output grids by output name (empty for a float export).</summary>
    public static Dictionary<string, QParams> OutputGrids(ModelProto model)
    {
        var grids = new Dictionary<string, QParams>(StringComparer.Ordinal);
        foreach (var p in model.MetadataProps)
        {
            if (!p.Key.StartsWith(OutputGridKey, StringComparison.Ordinal)) continue;
            var parts = p.Value.Split(' ');
            grids[p.Key[OutputGridKey.Length..]] = new QParams(float.Parse(parts[0], CultureInfo.InvariantCulture),
                int.Parse(parts[1], CultureInfo.InvariantCulture), int.Parse(parts[2], CultureInfo.InvariantCulture));
        }
        return grids;
    }

    private sealed class Recorder(bool quantized, Var floatInput, OnnxExportOptions options) : IOpRecorder
    {
        private const string InputName = "images";
        private readonly GraphProto _graph = new() { Name = "nanoq" };
        private readonly Dictionary<Var, string> _names = new(ReferenceEqualityComparer.Instance) { [floatInput] = InputName };
        private readonly Dictionary<Var, QParams> _grids = new(ReferenceEqualityComparer.Instance);
        private readonly Dictionary<object, (string Name, int Calls, string Weight, string? Bias)> _layers = new(ReferenceEqualityComparer.Instance);
        private readonly Dictionary<string, int> _opCounts = new(StringComparer.Ordinal);
        private readonly HashSet<string> _used = new(StringComparer.Ordinal);
        private readonly Dictionary<string, string> _scalars = new(StringComparer.Ordinal);

        public void Op(string op, IReadOnlyList<Var> inputs, Var output, int[] attributes, object? layer)
        {
            switch (layer)
            {
                case ActivationSite site:
                {
                    var (name, _) = Call(site, site.Name);
                    string x = Name(inputs[0], name, site: true);
                    if (quantized) Define(output, QuantizeDequantize(name, x, OutputGrid(name, site)), OutputGrid(name, site));
                    else Define(output, Node("Identity", name, [x]));
                    return;
                }
                case ConvUnit conv:
                {
                    string x = Name(inputs[0], conv.Name);
                    var (name, layerInfo) = Call(conv, conv.Name, () => ConvWeights(conv));
                    var c = conv.Conv;
                    string y = Node("Conv", name, [x, layerInfo.Weight, layerInfo.Bias!],
                        Ints("kernel_shape", c.Kernel, c.Kernel), Ints("strides", c.Stride, c.Stride),
                        Ints("pads", c.Padding, c.Padding, c.Padding, c.Padding), Ints("dilations", c.Dilation, c.Dilation), Int("group", c.Groups));
                    Finish(conv, name, output, Activate(name, y, conv.Activation));
                    return;
                }
                case LinearUnit lin:
                {
                    string x = Name(inputs[0], lin.Name);
                    var (name, layerInfo) = Call(lin, lin.Name, () => LinearWeights(lin));
                    string[] ins = layerInfo.Bias is null ? [x, layerInfo.Weight] : [x, layerInfo.Weight, layerInfo.Bias];
                    string y = Node("Gemm", name, ins, Int("transB", 1));
                    Finish(lin, name, output, Activate(name, y, lin.Activation));
                    return;
                }
                case AddUnit add:
                {
                    string a = Name(inputs[0], add.Name), b = Name(inputs[1], add.Name);
                    var (name, _) = Call(add, add.Name);
                    Finish(add, name, output, Activate(name, Node("Add", name, [a, b]), add.Activation));
                    return;
                }
                case Tap other:
                    throw new NotSupportedException($"OnnxExporter: no ONNX op for a {other.GetType().Name} ('{other.Name}').");
            }
            string opName = OpName(op);
            string first = Name(inputs[0], opName);
            string r = op switch
            {
                "maxpool" => Node("MaxPool", opName, [first], Ints("kernel_shape", attributes[0], attributes[0]),
                    Ints("strides", attributes[1], attributes[1]), Ints("pads", attributes[2], attributes[2], attributes[2], attributes[2])),
                "upsample" => Resize(opName, first, Name(inputs[1], opName)),
                "relu" => Node("Relu", opName, [first]),
                "relu6" => Node("Clip", opName, [first, Scalar(0f), Scalar(6f)]),
                "concat" => Node("Concat", opName, inputs.Select(v => Name(v, opName)).ToArray(), Int("axis", attributes[0])),
                "flatten" => Node("Flatten", opName, [first], Int("axis", attributes[0])),
                "slice" => Node("Slice", opName, [first, Longs(opName + ".starts", attributes[1]), Longs(opName + ".ends", attributes[1] + attributes[2]), Longs(opName + ".axes", attributes[0])]),
                _ => throw new NotSupportedException($"OnnxExporter: no ONNX op for '{op}'."),
            };
            // Value-preserving ops keep their input's grid; a concatenation of values on different grids is still exact
            // in QDQ (it joins dequantized reals, as the fake-quant model does) but has no single grid of its own.
            QParams? grid = quantized && _grids.TryGetValue(inputs[0], out var g) && inputs.All(v => _grids.TryGetValue(v, out var gv) && gv == g) ? g : null;
            Define(output, r, grid);
        }

        // ---- layers -------------------------------------------------------------------------------------------------

        private void Finish(Tap tap, string name, Var output, string y)
        {
            if (!quantized)
            {
                Define(output, y);
                return;
            }
            var grid = OutputGrid(name, tap);
            Define(output, QuantizeDequantize(name, y, grid), grid);
        }

        private (string Weight, string? Bias) ConvWeights(ConvUnit unit)
        {
            if (quantized && unit.Implementation is not FoldedConv)
                throw new InvalidOperationException($"OnnxExporter: '{unit.Name}': the conv unit is not quantized (ModelQuantizer.Install, calibrate, then export).");
            var (w, b) = FoldedConv.Folded(unit);
            try
            {
                string bias = Init(OnnxTensors.FromTensor(Unique(unit.Name + ".bias"), b));
                return (Weight(unit, unit.Name, w), bias);
            }
            finally
            {
                w.Dispose();
                b.Dispose();
            }
        }

        private (string Weight, string? Bias) LinearWeights(LinearUnit unit)
        {
            var bias = unit.Linear.Bias is null ? null : Init(OnnxTensors.FromTensor(Unique(unit.Name + ".bias"), unit.Linear.Bias.Value));
            return (Weight(unit, unit.Name, unit.Linear.Weight.Value), bias);
        }

        /// <summary>Float weights, or (QDQ) uint8 codes on the weight quantizer's grid → DequantizeLinear.</summary>
        private string Weight(WeightedTap unit, string name, Tensor w)
        {
            if (!quantized) return Init(OnnxTensors.FromTensor(Unique(name + ".weight"), w));
            var info = WeightGrid(name, unit);
            int cout = w.Shape[0];
            byte[] codes;
            float[] scales;
            int[] zeroPoints;
            if (info.PerChannel)
            {
                var cq = info.ToChannelQParams();
                if (cq.Axis != 0) throw new NotSupportedException($"{name}: per-channel weight grid on axis {cq.Axis}; export expects axis 0.");
                codes = WeightCodes.Quantize(w, cq);
                (scales, zeroPoints) = (cq.Scales.ToArray(), cq.ZeroPoints.ToArray());
            }
            else
            {
                var q = info.ToQParams();
                codes = WeightCodes.Quantize(w, q);
                (scales, zeroPoints) = ([q.Scale], [q.ZeroPoint]);
            }
            string codesName = Init(Codes(Unique(name + ".weight_codes"), codes, info.Bits, w.Shape.ToArray()));
            bool perChannel = info.PerChannel;
            string scale = Init(perChannel ? OnnxTensors.FromFloats(Unique(name + ".weight_scale"), scales, scales.Length)
                                           : OnnxTensors.FromFloats(Unique(name + ".weight_scale"), scales));
            string zp = Init(perChannel ? Codes(Unique(name + ".weight_zero_point"), zeroPoints.Select(z => (byte)z).ToArray(), info.Bits, zeroPoints.Length)
                                        : Codes(Unique(name + ".weight_zero_point"), [(byte)zeroPoints[0]], info.Bits));
            return perChannel
                ? Node("DequantizeLinear", name + ".weight_dq", [codesName, scale, zp], Int("axis", 0))
                : Node("DequantizeLinear", name + ".weight_dq", [codesName, scale, zp]);
        }

        /// <summary>x → Clip(lb′, ub′) → QuantizeLinear → DequantizeLinear on <paramref name="grid"/> (uint8 container).</summary>
        private string QuantizeDequantize(string name, string x, QParams grid)
        {
            string scale = Init(OnnxTensors.FromFloats(Unique(name + ".scale"), [grid.Scale]));
            string zp = Init(Codes(Unique(name + ".zero_point"), [(byte)grid.ZeroPoint], grid.Bits));
            string clipped = grid.Bits < ContainerBits(grid.Bits) ? Node("Clip", name + ".clip", [x, Scalar(grid.Lb), Scalar(grid.Ub)]) : x;
            if (options.NanoqRounding)
            {
                // round(x · (1/Δ)) with 1/Δ in float32, as Nanoq's kernel (and PyTorch's) computes, not ONNX's x / Δ.
                string scaled = Node("Mul", name + ".scaled", [clipped, Scalar(1f / grid.Scale)]);
                string q1 = Node("QuantizeLinear", name + ".quantize", [scaled, Scalar(1f), zp]);
                return Node("DequantizeLinear", name + ".dequantize", [q1, scale, zp]);
            }
            string q = Node("QuantizeLinear", name + ".quantize", [clipped, scale, zp]);
            return Node("DequantizeLinear", name + ".dequantize", [q, scale, zp]);
        }

        private string Activate(string name, string y, ActivationKind kind) => kind switch
        {
            ActivationKind.None => y,
            ActivationKind.Relu => Node("Relu", name + ".relu", [y]),
            ActivationKind.Relu6 => Node("Clip", name + ".relu6", [y, Scalar(0f), Scalar(6f)]),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "OnnxExporter: unknown activation."),
        };

        /// <summary>Resize x to the spatial size of <paramref name="like"/>, both read at run time (dynamic shapes).</summary>
        private string Resize(string name, string x, string like)
        {
            string nc = Node("Shape", name + ".batch_channels", [x], Int("start", 0), Int("end", 2));
            string hw = Node("Shape", name + ".size", [like], Int("start", 2), Int("end", 4));
            string sizes = Node("Concat", name + ".sizes", [nc, hw], Int("axis", 0));
            return Node("Resize", name, [x, "", "", sizes], Str("mode", "nearest"),
                Str("coordinate_transformation_mode", "asymmetric"), Str("nearest_mode", "floor"));
        }

        // ---- grids ----------------------------------------------------------------------------------------------------

        private static QParams OutputGrid(string name, Tap tap)
        {
            if (tap.OutputQuantizer is not FakeQuantizer q)
                throw new InvalidOperationException($"OnnxExporter: '{name}' has no output quantizer; a QDQ export needs a quantized model (ModelQuantizer.Install, calibrate).");
            if (!q.ConvertsToInteger)
                throw new NotSupportedException($"OnnxExporter: '{name}': {q.Method} activations have no QDQ form (only affine grids with integer zero points).");
            if (!q.Enabled) throw new InvalidOperationException($"OnnxExporter: '{name}': the output quantizer is switched off.");
            var info = q.Describe();
            if (!info.Calibrated) throw new InvalidOperationException($"OnnxExporter: '{name}': the output quantizer is not calibrated.");
            return info.ToQParams();
        }

        private static QuantizerInfo WeightGrid(string name, WeightedTap unit)
        {
            if (unit.WeightQuantizer is not FakeQuantizer wq)
                throw new InvalidOperationException($"OnnxExporter: '{name}' has no weight quantizer (ModelQuantizer.Install first).");
            if (!wq.ConvertsToInteger)
                throw new NotSupportedException($"OnnxExporter: '{name}': {wq.Method} weights have no QDQ form (only affine grids with integer zero points).");
            if (!wq.Enabled) throw new InvalidOperationException($"OnnxExporter: '{name}': the weight quantizer is switched off.");
            var info = wq.Describe();
            if (!info.Calibrated) throw new InvalidOperationException($"OnnxExporter: '{name}': the weight quantizer has no grid yet.");
            return info;
        }

        // ---- names and values -----------------------------------------------------------------------------------------

        /// <summary>A layer's node name for this call ("#k" for its k-th later call), and its weights (made on the first call).</summary>
        private (string Name, (string Weight, string? Bias) Weights) Call(object layer, string tapName, Func<(string, string?)>? weights = null)
        {
            if (!_layers.TryGetValue(layer, out var seen))
            {
                var (w, b) = weights is null ? ("", null) : weights();
                _layers[layer] = (tapName, 1, w, b);
                return (tapName, (w, b));
            }
            _layers[layer] = seen with { Calls = seen.Calls + 1 };
            return (string.Create(CultureInfo.InvariantCulture, $"{tapName}#{seen.Calls}"), (seen.Weight, seen.Bias));
        }

        private string OpName(string op)
        {
            int k = _opCounts.GetValueOrDefault(op);
            _opCounts[op] = k + 1;
            return k == 0 ? op : string.Create(CultureInfo.InvariantCulture, $"{op}#{k}");
        }

        private string Unique(string name)
        {
            string n = name;
            for (int k = 1; !_used.Add(n); k++) n = string.Create(CultureInfo.InvariantCulture, $"{name}~{k}");
            return n;
        }

        private void Define(Var v, string value, QParams? grid = null)
        {
            _names[v] = value;
            if (grid is QParams g) _grids[v] = g;
        }

        private string Name(Var v, string reader, bool site = false)
        {
            if (_names.TryGetValue(v, out var n))
            {
                if (quantized && !site && ReferenceEquals(v, floatInput))
                    throw new NotSupportedException($"OnnxExporter: '{reader}' reads the float input image directly; quantize it at an input site first.");
                return n;
            }
            throw new NotSupportedException($"OnnxExporter: '{reader}' reads a tensor that no tap or traced op produced (float computation between layers?).");
        }

        private string Node(string op, string name, string[] inputs, params AttributeProto[] attributes)
        {
            string nodeName = Unique(name);
            var node = new NodeProto { OpType = op, Name = nodeName };
            node.Input.AddRange(inputs);
            node.Output.Add(nodeName);
            node.Attribute.AddRange(attributes);
            _graph.Node.Add(node);
            return nodeName;
        }

        private string Init(TensorProto t)
        {
            _graph.Initializer.Add(t);
            return t.Name;
        }

        private string Scalar(float v)
        {
            string key = v.ToString("R", CultureInfo.InvariantCulture);
            if (_scalars.TryGetValue(key, out var n)) return n;
            n = Init(OnnxTensors.FromFloats(Unique("const_" + key), [v]));
            _scalars[key] = n;
            return n;
        }

        /// <summary>The bits of the container a k-bit grid's codes are stored in: uint8, or uint4 for k ≤ 4 with <see cref="OnnxExportOptions.FourBitTypes"/>.</summary>
        private int ContainerBits(int bits) => options.FourBitTypes && bits <= 4 ? 4 : 8;

        /// <summary>Codes (or zero points) in their container: uint8, or opset 21's uint4 (two per byte, the first in the low nibble).</summary>
        private TensorProto Codes(string name, byte[] data, int bits, params int[] dims)
        {
            if (ContainerBits(bits) == 8) return Uint8(name, data, dims);
            var packed = new byte[(data.Length + 1) / 2];
            for (int i = 0; i < data.Length; i++) packed[i / 2] |= (byte)((data[i] & 0xF) << (4 * (i % 2)));
            var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Uint4, RawData = ByteString.CopyFrom(packed) };
            t.Dims.AddRange(dims.Select(d => (long)d));
            return t;
        }

        /// <summary>A one-element int64 initializer (Slice's starts, ends and axes).</summary>
        private string Longs(string name, long value)
        {
            var t = new TensorProto { Name = Unique(name), DataType = (int)TensorProto.Types.DataType.Int64 };
            t.Dims.Add(1);
            t.Int64Data.Add(value);
            return Init(t);
        }

        private static TensorProto Uint8(string name, byte[] data, params int[] dims)
        {
            var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Uint8, RawData = ByteString.CopyFrom(data) };
            t.Dims.AddRange(dims.Select(d => (long)d));
            return t;
        }

        private static AttributeProto Ints(string name, params long[] v)
        {
            var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
            a.Ints.AddRange(v);
            return a;
        }

        private static AttributeProto Int(string name, long v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = v };

        private static AttributeProto Str(string name, string v) =>
            new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(v) };

        // ---- the model --------------------------------------------------------------------------------------------------

        public ModelProto Finish(IReadOnlyList<Var> outputs)
        {
            var shape = floatInput.Shape.ToArray();
            var input = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = new TensorShapeProto() };
            for (int d = 0; d < shape.Length; d++)
            {
                string? param = options.DynamicShape ? d switch { 0 => "batch", 2 when shape.Length == 4 => "height", 3 when shape.Length == 4 => "width", _ => null } : null;
                input.Shape.Dim.Add(param is null ? new TensorShapeProto.Types.Dimension { DimValue = shape[d] } : new TensorShapeProto.Types.Dimension { DimParam = param });
            }
            _graph.Input.Add(new ValueInfoProto { Name = InputName, Type = new TypeProto { TensorType = input } });

            var model = new ModelProto { IrVersion = 8, ProducerName = "nanoq", ProducerVersion = "1", Graph = _graph };
            model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = options.FourBitTypes ? FourBitOpset : Opset });
            model.MetadataProps.Add(new StringStringEntryProto { Key = "nanoq.export", Value = quantized ? "qdq" : "float" });
            foreach (var (k, v) in options.Metadata ?? new Dictionary<string, string>())
            {
                if (k.StartsWith("nanoq.", StringComparison.Ordinal)) throw new ArgumentException($"OnnxExporter: metadata key '{k}' is reserved (nanoq.*).");
                model.MetadataProps.Add(new StringStringEntryProto { Key = k, Value = v });
            }
            var names = options.OutputNames;
            if (names is not null && names.Count != outputs.Count)
                throw new ArgumentException($"OnnxExporter: {names.Count} output names for {outputs.Count} outputs.");
            for (int i = 0; i < outputs.Count; i++)
            {
                if (!_names.TryGetValue(outputs[i], out var value) || ReferenceEquals(outputs[i], floatInput))
                    throw new NotSupportedException($"OnnxExporter: output {i} is not the result of a traced op (float computation after the last layer?).");
                string outName = names?[i] ?? string.Create(CultureInfo.InvariantCulture, $"output_{i}");
                if (!_used.Add(outName)) throw new ArgumentException($"OnnxExporter: output name '{outName}' is already used in the graph.");
                var id = new NodeProto { OpType = "Identity", Name = outName + ".out" };
                id.Input.Add(value);
                id.Output.Add(outName);
                _graph.Node.Add(id);
                _graph.Output.Add(new ValueInfoProto
                {
                    Name = outName,
                    Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float } },
                });
                if (quantized && _grids.TryGetValue(outputs[i], out var g))
                {
                    model.MetadataProps.Add(new StringStringEntryProto
                    {
                        Key = OutputGridKey + outName,
                        Value = string.Create(CultureInfo.InvariantCulture, $"{g.Scale:R} {g.ZeroPoint} {g.Bits}"),
                    });
                }
            }
            return model;
        }
    }
}

/// <summary>Options of <see cref="OnnxExporter.Export"/>.</summary>
public sealed record OnnxExportOptions
{
    /// <summary>Symbolic batch, height and width on the graph input (true), or the sample's dims (false).</summary>
    public bool DynamicShape { get; init; } = true;

    /// <summary>
    /// Quantize as Nanoq's kernel does — Mul(x, float32(1/Δ)) → QuantizeLinear(scale 1) — rather than ONNX's x / Δ:
    /// the two differ by one code where x/Δ lies within a float32 rounding of a half. For verification; a deployed QDQ
    /// graph should keep the canonical pattern (false), which runtimes fuse into integer kernels.
    /// </summary>
    public bool NanoqRounding { get; init; }

    /// <summary>
    /// Store grids of k ≤ 4 bits in opset 21's uint4 (weights packed two per byte; QuantizeLinear saturates at 15, so no
    /// Clip is needed at 4 bits) instead of uint8 containers. ONNX Runtime's CPU provider runs uint4 Q/DQ (tested with
    /// 1.32); other runtimes may not — the default (false) is uint8 containers at opset 17.
    /// </summary>
    public bool FourBitTypes { get; init; }

    /// <summary>Extra metadata_props (e.g. the detector's kind and configuration, for postprocessing); keys "nanoq.*" are reserved.</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }

    /// <summary>Names of the graph outputs, one per forward output; null: output_0, output_1….</summary>
    public IReadOnlyList<string>? OutputNames { get; init; }
}
