using Nanoq.Autograd;
using Nanoq.Nn.Layers;
using Nanoq.Nn.Taps;
using Nanoq.Onnx.Proto;

namespace Nanoq.Onnx;

/// <summary>Choices of <see cref="OnnxImporter"/>.</summary>
public sealed record OnnxImportOptions
{
    /// <summary>
    /// Register an <see cref="ActivationSite"/> named "input" on the graph input, so a standalone imported network
    /// quantizes its input like RetinaNet's "input" tap. Off for a backbone: the detector owns that tap.
    /// </summary>
    public bool InputSite { get; init; } = true;

    /// <summary>
    /// Values to treat as the graph's outputs instead of its own (e.g. a backbone's C2–C5): only the nodes they depend
    /// on are imported — a classifier tail is neither checked nor built, so none of its taps waits for data that never
    /// comes. Null: the graph's outputs.
    /// </summary>
    public IReadOnlyList<string>? Outputs { get; init; }
}

/// <summary>
/// Imports plain CNN graphs from ONNX (DESIGN.md §11) into an <see cref="OnnxGraphModule"/>. Supported (default domain,
/// float32 weights in initializers or Constant nodes):
/// <list type="bullet">
/// <item>Conv [→ BatchNormalization] [→ Relu | Clip(0, 6) | Clip(0, ∞)]: one <see cref="ConvUnit"/> tap (a Conv2d child,
/// a BatchNorm2d child, the activation as the unit's clamp) — fused when each intermediate value has that one consumer
/// and is not a graph output;</item>
/// <item>Add of two computed values [→ Relu]: one <see cref="AddUnit"/> tap;</item>
/// <item>MaxPool (no tap: max pooling acts on codes), AveragePool and GlobalAveragePool (an <see cref="ActivationSite"/>
/// after them: a mean leaves the input's grid), Gemm and MatMul with a constant weight (a Linear child and a site),
/// Concat (a site: the parts' grids differ), Flatten, Reshape, Resize/Upsample nearest with integer factors, Relu and
/// Clip on their own, a BatchNormalization on its own (a BatchNorm2d, no tap), Add/Sub/Mul/Div with one constant
/// operand (a buffer, broadcast), Identity and Dropout (aliases), Constant.</item>
/// </list>
/// Square kernels, equal strides and dilations; pads may end short of where they begin (CNTK's "same" padding,
/// <c>pads = [1, 1, 0, 0]</c>): the module pads both sides by the begin amount and crops the extra output row/column
/// where one appears, which gives the same windows. Anything else — an op, an attribute or an attribute value outside
/// this list — throws <see cref="OnnxImportException"/> naming the first offending node and attribute; nothing is
/// silently approximated.
/// </summary>
public static class OnnxImporter
{
    public static readonly IReadOnlyList<string> SupportedOps =
    [
        "Conv", "BatchNormalization", "Relu", "Clip", "Add", "Sub", "Mul", "Div", "MaxPool", "AveragePool",
        "GlobalAveragePool", "Gemm", "MatMul", "Flatten", "Reshape", "Concat", "Resize", "Upsample", "Identity",
        "Dropout", "Constant",
    ];

    public static OnnxGraphModule Load(string path, OnnxImportOptions? options = null) => Import(ReadModel(path), options);

    /// <summary>Parses an .onnx file (a ModelProto); <see cref="OnnxImportException"/> if it is not one.</summary>
    public static ModelProto ReadModel(string path)
    {
        try
        {
            using var f = File.OpenRead(path);
            var model = ModelProto.Parser.ParseFrom(f);
            return model.Graph is null ? throw new OnnxImportException($"{path}: not an ONNX model (no graph).") : model;
        }
        catch (Google.Protobuf.InvalidProtocolBufferException ex)
        {
            throw new OnnxImportException($"{path}: not an ONNX model ({ex.Message}).", ex);
        }
    }

    public static OnnxGraphModule Import(ModelProto model, OnnxImportOptions? options = null) =>
        new Builder(model, options ?? new OnnxImportOptions()).Build();

    private sealed class Builder
    {
        private readonly ModelProto _model;
        private readonly GraphProto _graph;
        private readonly OnnxImportOptions _options;
        private readonly long _opset;
        private readonly Dictionary<string, TensorProto> _constants = new(StringComparer.Ordinal);
        private readonly Dictionary<string, List<int>> _consumers = new(StringComparer.Ordinal);
        private readonly HashSet<string> _graphOutputs;
        private readonly string[] _outputs;
        private readonly HashSet<string> _produced = new(StringComparer.Ordinal);
        private readonly OnnxNode[] _nodes;
        private readonly bool[] _done;
        private OnnxGraphModule _m = null!;
        private readonly Dictionary<string, string> _alias = new(StringComparer.Ordinal);

        public Builder(ModelProto model, OnnxImportOptions options)
        {
            _model = model;
            _graph = model.Graph ?? throw new OnnxImportException("the model has no graph.");
            _options = options;
            var def = model.OpsetImport.FirstOrDefault(o => o.Domain is "" or "ai.onnx");
            _opset = def?.Version ?? 1;
            foreach (var t in _graph.Initializer) _constants[t.Name] = t;
            _outputs = options.Outputs?.ToArray() ?? _graph.Output.Select(o => o.Name).ToArray();
            _graphOutputs = new HashSet<string>(_outputs, StringComparer.Ordinal);
            // Keep the nodes the outputs depend on (a reverse sweep over the topologically ordered list).
            var needed = new HashSet<string>(_outputs, StringComparer.Ordinal);
            var keep = new List<NodeProto>();
            foreach (var node in _graph.Node.Reverse())
            {
                if (!node.Output.Any(needed.Contains)) continue;
                keep.Add(node);
                foreach (var i in node.Input) needed.Add(i);
            }
            keep.Reverse();
            _nodes = keep.Select((n, i) => new OnnxNode(n, i)).ToArray();
            _done = new bool[_nodes.Length];
        }

        public OnnxGraphModule Build()
        {
            if (_graph.SparseInitializer.Count > 0)
                throw new OnnxImportException($"graph '{_graph.Name}': sparse initializers are not supported.");
            var dataInputs = _graph.Input.Where(i => !_constants.ContainsKey(i.Name)).ToList();
            if (dataInputs.Count != 1)
                throw new OnnxImportException($"graph '{_graph.Name}': expected one data input, found {dataInputs.Count} ({string.Join(", ", dataInputs.Select(i => i.Name))}).");
            var input = dataInputs[0];
            int[]? inputShape = null;
            var dims = input.Type?.TensorType?.Shape?.Dim;
            if (dims is not null && dims.Count > 0 && dims.All(d => d.HasDimValue && d.DimValue > 0))
                inputShape = dims.Select(d => (int)d.DimValue).ToArray();
            if (input.Type?.TensorType is { } tt && tt.ElemType != (int)TensorProto.Types.DataType.Float)
                throw new OnnxImportException($"graph input '{input.Name}' has element type {(TensorProto.Types.DataType)tt.ElemType}; only FLOAT is supported.");

            _m = new OnnxGraphModule(input.Name, inputShape, _outputs);
            _produced.Add(input.Name);
            if (_options.InputSite) _m.SetInputSite(_m.AddTap(_m.UniqueName("input"), new ActivationSite()));

            for (int i = 0; i < _nodes.Length; i++)
                foreach (var v in _nodes[i].Inputs)
                    if (v.Length > 0) (_consumers.TryGetValue(v, out var l) ? l : _consumers[v] = new List<int>()).Add(i);

            for (int i = 0; i < _nodes.Length; i++)
            {
                if (_done[i]) continue;
                var n = _nodes[i];
                if (n.Proto.Domain is not ("" or "ai.onnx"))
                    throw n.Error($"op domain '{n.Proto.Domain}' is not supported (only the default ONNX domain).");
                _done[i] = true;
                switch (n.OpType)
                {
                    case "Conv": ImportConv(n); break;
                    case "Add" when !IsConst(n.Input(0)) && !IsConst(n.Input(1)): ImportAdd(n); break;
                    case "Add" or "Sub" or "Mul" or "Div": ImportConstElementwise(n); break;
                    case "Relu" or "Clip": ImportActivation(n); break;
                    case "BatchNormalization": ImportBatchNorm(n); break;
                    case "MaxPool": ImportMaxPool(n); break;
                    case "AveragePool": ImportAveragePool(n); break;
                    case "GlobalAveragePool": ImportGlobalAveragePool(n); break;
                    case "Gemm": ImportGemm(n); break;
                    case "MatMul": ImportMatMul(n); break;
                    case "Flatten": ImportFlatten(n); break;
                    case "Reshape": ImportReshape(n); break;
                    case "Concat": ImportConcat(n); break;
                    case "Resize" or "Upsample": ImportResize(n); break;
                    case "Identity": n.CheckAllRead(); Alias(n, 0); break;
                    case "Dropout": ImportDropout(n); break;
                    case "Constant": ImportConstant(n); break;
                    default:
                        throw n.Error($"op {n.OpType} is not supported (supported: {string.Join(", ", SupportedOps)}).");
                }
            }
            foreach (var o in _outputs)
            {
                string r = Resolve(o);
                if (r != _m.InputName && _m.Steps.All(s => s.Output != r))
                    throw new OnnxImportException($"graph output '{o}' is not computed by any node of the graph (a constant output is not supported).");
            }
            _m.ResolveOutputs();
            return _m;
        }

        // ---------- helpers ----------

        private string Resolve(string v)
        {
            while (_alias.TryGetValue(v, out var t)) v = t;
            return v;
        }

        private bool IsConst(string? v) => v is not null && _constants.ContainsKey(Resolve(v));

        private Tensor ConstTensor(OnnxNode n, int input, string what)
        {
            string? v = n.Input(input);
            if (v is null) throw n.Error($"input {input} ({what}) is missing.");
            if (!_constants.TryGetValue(Resolve(v), out var t))
                throw n.Error($"input {input} ({what}) '{v}' must be a constant (an initializer or a Constant node); computed {what}s are not supported.");
            try { return OnnxTensors.ToTensor(t); }
            catch (OnnxImportException ex) { throw n.Error(ex.Message); }
        }

        private long[] ConstInts(OnnxNode n, int input, string what)
        {
            string? v = n.Input(input);
            if (v is null) throw n.Error($"input {input} ({what}) is missing.");
            if (!_constants.TryGetValue(Resolve(v), out var t))
                throw n.Error($"input {input} ({what}) '{v}' must be a constant.");
            try { return OnnxTensors.ToInt64(t); }
            catch (OnnxImportException ex) { throw n.Error(ex.Message); }
        }

        /// <summary>The data input i, a computed value (not a constant).</summary>
        private string Data(OnnxNode n, int i)
        {
            string? v = n.Input(i) ?? throw n.Error($"input {i} is missing.");
            v = Resolve(v);
            if (_constants.ContainsKey(v)) throw n.Error($"input {i} '{v}' is a constant; only computed values are supported there.");
            return v;
        }

        /// <summary>Only output 0 may be used (e.g. Dropout's mask, MaxPool's indices, BN's training statistics are not).</summary>
        private static void OnlyFirstOutput(OnnxNode n)
        {
            for (int k = 1; k < n.Outputs.Count; k++)
                if (n.Outputs[k].Length > 0) throw n.Error($"output {k} ('{n.Outputs[k]}') is not supported; only the first output.");
        }

        private void Alias(OnnxNode n, int input)
        {
            OnlyFirstOutput(n);
            string src = Resolve(n.Input(input) ?? throw n.Error("input 0 is missing."));
            _alias[n.Outputs[0]] = src;
            _m.AddAlias(n.Outputs[0], src);
            if (_constants.TryGetValue(src, out var t)) _constants[n.Outputs[0]] = t;
        }

        /// <summary>The node that alone consumes value v (v not a graph output), if it is one of <paramref name="ops"/> and not yet imported.</summary>
        private OnnxNode? SoleConsumer(string v, params string[] ops)
        {
            if (_graphOutputs.Contains(v) || !_consumers.TryGetValue(v, out var list) || list.Count != 1) return null;
            var c = _nodes[list[0]];
            return !_done[c.Index] && ops.Contains(c.OpType) && c.Input(0) == v && c.Proto.Domain is "" or "ai.onnx" ? c : null;
        }

        private void Step(OnnxNode first, string name, string ops, string[] inputs, string output, Tap? tap, Func<Var[], Var> run,
                          Nn.Module? layer = null, OnnxWindow? window = null)
        {
            foreach (var i in inputs)
                if (!_produced.Contains(i))
                    throw first.Error($"input '{i}' is neither the graph input nor computed by an earlier node (the node list must be topologically sorted).");
            _produced.Add(output);
            _m.AddStep(new OnnxStep(name, ops, inputs, output, tap, layer, window, args =>
            {
                try { return run(args); }
                catch (ArgumentException ex) { throw first.Error($"cannot run on inputs {string.Join(", ", args.Select(a => a.Shape))}: {ex.Message}"); }
            }));
        }

        private string NodeName(OnnxNode n) => _m.UniqueName(n.Name.Length > 0 ? n.Name : $"{n.OpType}{n.Index}");

        // ---------- windows (conv, pooling) ----------

        private static OnnxWindow ReadWindow(OnnxNode n, int[]? kernelFromWeight)
        {
            var ks = n.Ints("kernel_shape");
            if (ks is null && kernelFromWeight is null) throw n.Error("attribute kernel_shape is required.", "kernel_shape");
            ks ??= kernelFromWeight!.Select(k => (long)k).ToArray();
            if (ks.Length != 2) throw n.Error($"kernel_shape [{string.Join(", ", ks)}] is not 2-D; only 2-D windows are supported.", "kernel_shape");
            if (kernelFromWeight is not null && (ks[0] != kernelFromWeight[0] || ks[1] != kernelFromWeight[1]))
                throw n.Error($"kernel_shape [{string.Join(", ", ks)}] disagrees with the weight's [{string.Join(", ", kernelFromWeight)}].", "kernel_shape");
            if (ks[0] != ks[1]) throw n.Error($"kernel_shape [{string.Join(", ", ks)}] is not square; only square windows are supported.", "kernel_shape");
            var st = n.Ints("strides") ?? [1, 1];
            if (st.Length != 2 || st[0] != st[1]) throw n.Error($"strides [{string.Join(", ", st)}]: only equal strides on both axes are supported.", "strides");
            var dl = n.Ints("dilations") ?? [1, 1];
            if (dl.Length != 2 || dl[0] != dl[1]) throw n.Error($"dilations [{string.Join(", ", dl)}]: only equal dilations on both axes are supported.", "dilations");
            string autoPad = n.String("auto_pad", "NOTSET");
            var pads = n.Ints("pads") ?? [0, 0, 0, 0];
            if (autoPad == "VALID") pads = [0, 0, 0, 0];
            else if (autoPad != "NOTSET")
                throw n.Error($"auto_pad={autoPad} is not supported (only NOTSET with explicit pads, or VALID).", "auto_pad");
            // pads = [h_begin, w_begin, h_end, w_end]
            if (pads.Length != 4 || pads[0] != pads[1] || pads[2] != pads[3] || pads[2] > pads[0] || pads.Any(p => p < 0))
                throw n.Error($"pads [{string.Join(", ", pads)}] are not supported: need h_begin = w_begin ≥ h_end = w_end ≥ 0.", "pads");
            return new OnnxWindow((int)ks[0], (int)st[0], (int)dl[0], (int)pads[0], (int)pads[2]);
        }

        /// <summary>
        /// A Relu or Clip(0, 6) that is <paramref name="output"/>'s only consumer becomes the layer's fused activation: the
        /// node is marked done, the layer's output moves to the activation's, and <paramref name="ops"/> names it.
        /// </summary>
        private ActivationKind FuseActivation(ref string output, ref string ops)
        {
            var act = ActivationKind.None;
            if (SoleConsumer(output, "Relu", "Clip") is { } actNode && TryActivation(actNode, out act))
            {
                _done[actNode.Index] = true;
                _m.MarkFused(output);
                output = actNode.Outputs[0];
                ops += "+" + actNode.OpType;
            }
            return act;
        }

        /// <summary>Drops the trailing output rows/columns that padding by <c>Pad</c> on both sides adds beyond ONNX's size.</summary>
        private static Var Crop(Var y, OnnxWindow w, int inH, int inW)
        {
            if (w.PadEnd == w.Pad) return y;
            int oh = w.Out(inH), ow = w.Out(inW);
            if (y.Shape[2] > oh) y = Fn.Slice(y, 2, 0, oh);
            if (y.Shape[3] > ow) y = Fn.Slice(y, 3, 0, ow);
            return y;
        }

        // ---------- ops ----------

        private void ImportConv(OnnxNode n)
        {
            var w = ConstTensor(n, 1, "weight");
            if (w.Rank != 4) throw n.Error($"weight {w.Shape} is not 4-D; only 2-D convolution is supported.");
            int groups = (int)n.Int("group", 1);
            var win = ReadWindow(n, [w.Shape[2], w.Shape[3]]);
            n.CheckAllRead();
            string x = Data(n, 0);
            string name = NodeName(n);
            bool hasBias = n.Input(2) is not null;
            var conv = _m.AddChild(name, new Conv2d(w.Shape[1] * groups, w.Shape[0], win.Kernel, win.Stride, win.Pad, win.Dilation, groups, hasBias));
            conv.Weight.Value.CopyFrom(w);
            if (hasBias)
            {
                var b = ConstTensor(n, 2, "bias");
                if (b.Size != w.Shape[0]) throw n.Error($"bias {b.Shape} does not match {w.Shape[0]} output channels.");
                b.Span.CopyTo(conv.Bias!.Value.Span);
            }
            string ops = "Conv";
            string output = n.Outputs[0];
            OnlyFirstOutput(n);

            BatchNorm2d? bn = null;
            if (SoleConsumer(output, "BatchNormalization") is { } bnNode && Enumerable.Range(1, 4).All(k => IsConst(bnNode.Input(k))))
            {
                _done[bnNode.Index] = true;
                bn = MakeBatchNorm(bnNode, w.Shape[0]);
                _m.MarkFused(output);
                output = bnNode.Outputs[0];
                ops += "+BatchNormalization";
            }
            var act = FuseActivation(ref output, ref ops);
            var unit = _m.AddTap(name, new ConvUnit(conv, bn, act));
            Step(n, name, ops, [x], output, unit, a => Crop(unit.Forward(a[0]), win, a[0].Shape[2], a[0].Shape[3]), window: win);
        }

        private BatchNorm2d MakeBatchNorm(OnnxNode n, int? channels)
        {
            float eps = n.Float("epsilon", 1e-5f);
            float momentum = n.Float("momentum", 0.9f);
            if (n.Int("spatial", 1) != 1) throw n.Error("spatial=0 (per-activation statistics) is not supported.", "spatial");
            if (n.Int("training_mode", 0) != 0) throw n.Error("training_mode=1 is not supported.", "training_mode");
            n.Ignore("is_test", "consumed_inputs"); // legacy (opset < 7) flags with no effect on inference
            n.CheckAllRead();
            OnlyFirstOutput(n);
            var scale = ConstTensor(n, 1, "scale");
            var bias = ConstTensor(n, 2, "B");
            var mean = ConstTensor(n, 3, "mean");
            var variance = ConstTensor(n, 4, "var");
            int c = scale.Size;
            if (channels is int ch && ch != c) throw n.Error($"scale has {c} channels, the conv before it {ch}.");
            if (bias.Size != c || mean.Size != c || variance.Size != c)
                throw n.Error($"scale/B/mean/var sizes {scale.Size}/{bias.Size}/{mean.Size}/{variance.Size} differ.");
            // ONNX: running = momentum·running + (1 − momentum)·batch; Nanoq (PyTorch): running = (1 − m)·running + m·batch.
            var bn = _m.AddChild(NodeName(n), new BatchNorm2d(c, eps, 1f - momentum));
            scale.Span.CopyTo(bn.Weight.Value.Span);
            bias.Span.CopyTo(bn.Bias.Value.Span);
            mean.Span.CopyTo(bn.RunningMean.Span);
            variance.Span.CopyTo(bn.RunningVar.Span);
            return bn;
        }

        /// <summary>Relu, or Clip with bounds (0, 6) or (0, +∞); false (attributes left unread) for any other Clip.</summary>
        private bool TryActivation(OnnxNode n, out ActivationKind kind)
        {
            kind = ActivationKind.None;
            OnlyFirstOutput(n);
            if (n.OpType == "Relu") { n.CheckAllRead(); kind = ActivationKind.Relu; return true; }
            float lo, hi;
            if (_opset < 11)
            {
                lo = n.Float("min", float.MinValue);
                hi = n.Float("max", float.MaxValue);
            }
            else
            {
                lo = n.Input(1) is null ? float.MinValue : ScalarConst(n, 1, "min");
                hi = n.Input(2) is null ? float.MaxValue : ScalarConst(n, 2, "max");
            }
            n.CheckAllRead();
            if (lo == 0f && hi == 6f) kind = ActivationKind.Relu6;
            else if (lo == 0f && (hi == float.MaxValue || float.IsPositiveInfinity(hi))) kind = ActivationKind.Relu;
            else return false;
            return true;
        }

        private float ScalarConst(OnnxNode n, int input, string what)
        {
            if (!IsConst(n.Input(input))) return float.NaN; // a computed bound: not an activation Nanoq has
            var t = ConstTensor(n, input, what);
            if (t.Size != 1) throw n.Error($"{what} has {t.Size} values; a scalar is expected.");
            return t.Span[0];
        }

        private void ImportActivation(OnnxNode n)
        {
            if (!TryActivation(n, out var kind))
                throw n.Error("Clip bounds other than (0, 6) and (0, +∞) are not supported (Nanoq's activations are ReLU and ReLU6).",
                              _opset < 11 ? "min" : null);
            string x = Data(n, 0);
            Step(n, NodeName(n), n.OpType, [x], n.Outputs[0], null, a => ConvUnit.Activate(a[0], kind));
        }

        private void ImportAdd(OnnxNode n)
        {
            n.CheckAllRead();
            OnlyFirstOutput(n);
            string a = Data(n, 0), b = Data(n, 1);
            string output = n.Outputs[0], ops = "Add";
            var act = FuseActivation(ref output, ref ops);
            string name = NodeName(n);
            var unit = _m.AddTap(name, new AddUnit(act));
            Step(n, name, ops, [a, b], output, unit, v => unit.Forward(v[0], v[1]));
        }

        private void ImportConstElementwise(OnnxNode n)
        {
            if (_opset < 7 && (n.Proto.Attribute.Any(a => a.Name is "broadcast" or "axis")))
                throw n.Error("legacy broadcast/axis attributes (opset < 7) are not supported.", "broadcast");
            n.CheckAllRead();
            OnlyFirstOutput(n);
            bool constFirst = IsConst(n.Input(0));
            if (constFirst == IsConst(n.Input(1)))
                throw n.Error(constFirst ? "both operands are constants (fold them before export)."
                                         : $"{n.OpType} of two computed values is not supported (only Add).");
            string x = Data(n, constFirst ? 1 : 0);
            string name = NodeName(n);
            var c = new Var(_m.AddBuffer(name, ConstTensor(n, constFirst ? 0 : 1, "constant operand")));
            Func<Var, Var, Var> op = n.OpType switch
            {
                "Add" => Fn.Add,
                "Sub" => Fn.Sub,
                "Mul" => Fn.Mul,
                _ => Fn.Div,
            };
            var site = _m.AddTap(name, new ActivationSite());
            Step(n, name, n.OpType, [x], n.Outputs[0], site, a => site.Forward(constFirst ? op(c, a[0]) : op(a[0], c)));
        }

        private void ImportBatchNorm(OnnxNode n)
        {
            for (int k = 1; k <= 4; k++) ConstTensor(n, k, "statistic");
            var bn = MakeBatchNorm(n, null);
            string x = Data(n, 0);
            Step(n, _m.Children[^1].Name, "BatchNormalization", [x], n.Outputs[0], null, a => bn.Forward(a[0]), layer: bn);
        }

        private void ImportMaxPool(OnnxNode n)
        {
            var win = ReadWindow(n, null);
            if (n.Int("ceil_mode", 0) != 0) throw n.Error("ceil_mode=1 is not supported.", "ceil_mode");
            if (win.Dilation != 1) throw n.Error("dilated pooling is not supported.", "dilations");
            n.Ignore("storage_order"); // only affects the Indices output, which is refused below
            n.CheckAllRead();
            OnlyFirstOutput(n);
            string x = Data(n, 0);
            string name = NodeName(n);
            var pool = _m.AddChild(name, new MaxPool2d(win.Kernel, win.Stride, win.Pad));
            // Max pooling acts on codes directly (as in the native ResNet): no tap.
            Step(n, name, "MaxPool", [x], n.Outputs[0], null, a => Crop(pool.Forward(a[0]), win, a[0].Shape[2], a[0].Shape[3]), pool, win);
        }

        private void ImportAveragePool(OnnxNode n)
        {
            var win = ReadWindow(n, null);
            if (n.Int("ceil_mode", 0) != 0) throw n.Error("ceil_mode=1 is not supported.", "ceil_mode");
            if (win.Dilation != 1) throw n.Error("dilated pooling is not supported.", "dilations");
            bool includePad = n.Int("count_include_pad", 0) != 0;
            if (win.Pad > 0 && !includePad)
                throw n.Error("count_include_pad=0 with padding is not supported (Nanoq's average pooling counts the padding).", "count_include_pad");
            n.CheckAllRead();
            OnlyFirstOutput(n);
            string x = Data(n, 0);
            string name = NodeName(n);
            var site = _m.AddTap(name, new ActivationSite());
            Step(n, name, "AveragePool", [x], n.Outputs[0], site,
                 a => site.Forward(Crop(Fn.AvgPool2d(a[0], win.Kernel, win.Stride, win.Pad), win, a[0].Shape[2], a[0].Shape[3])), window: win);
        }

        private void ImportGlobalAveragePool(OnnxNode n)
        {
            n.CheckAllRead();
            OnlyFirstOutput(n);
            string x = Data(n, 0);
            string name = NodeName(n);
            var site = _m.AddTap(name, new ActivationSite());
            Step(n, name, "GlobalAveragePool", [x], n.Outputs[0], site, a =>
            {
                var y = Fn.GlobalAvgPool(a[0]); // [n, c]; ONNX keeps [n, c, 1, 1]
                return site.Forward(Fn.Reshape(y, y.Shape[0], y.Shape[1], 1, 1));
            });
        }

        private void ImportGemm(OnnxNode n)
        {
            float alpha = n.Float("alpha", 1f), beta = n.Float("beta", 1f);
            if (n.Int("transA", 0) != 0) throw n.Error("transA=1 is not supported (the data operand must be [batch, features]).", "transA");
            bool transB = n.Int("transB", 0) != 0;
            if (_opset < 7 && n.Proto.Attribute.Any(a => a.Name == "broadcast")) n.Ignore("broadcast");
            n.CheckAllRead();
            OnlyFirstOutput(n);
            string x = Data(n, 0);
            var b = ConstTensor(n, 1, "B");
            if (b.Rank != 2) throw n.Error($"B {b.Shape} is not 2-D.");
            var weight = transB ? b : Ops.Permute(b, 1, 0); // Linear's weight is [out, in]
            if (alpha != 1f) weight = Ops.Mul(weight, alpha);
            int outF = weight.Shape[0], inF = weight.Shape[1];
            Tensor? bias = null;
            if (n.Input(2) is not null)
            {
                var c = ConstTensor(n, 2, "C");
                if (c.Size != outF && c.Size != 1) throw n.Error($"C {c.Shape} does not broadcast to [{outF}] (a per-row C is not supported).");
                bias = Tensor.Zeros(outF);
                for (int j = 0; j < outF; j++) bias.Span[j] = beta * c.Span[c.Size == 1 ? 0 : j];
            }
            AddLinear(n, x, weight, bias, "Gemm");
        }

        private void ImportMatMul(OnnxNode n)
        {
            n.CheckAllRead();
            OnlyFirstOutput(n);
            string x = Data(n, 0);
            var b = ConstTensor(n, 1, "B");
            if (b.Rank != 2) throw n.Error($"B {b.Shape} is not 2-D; only [batch, in] × [in, out] is supported.");
            AddLinear(n, x, Ops.Permute(b, 1, 0), null, "MatMul");
        }

        private void AddLinear(OnnxNode n, string x, Tensor weight, Tensor? bias, string ops)
        {
            string name = NodeName(n);
            var linear = _m.AddChild(name, new Linear(weight.Shape[1], weight.Shape[0], bias is not null));
            linear.Weight.Value.CopyFrom(weight);
            if (bias is not null) bias.Span.CopyTo(linear.Bias!.Value.Span);
            // Nanoq has no linear-unit tap: a site quantizes the output, as it does every activation.
            var site = _m.AddTap(name, new ActivationSite());
            Step(n, name, ops, [x], n.Outputs[0], site, a =>
            {
                if (a[0].Value.Rank != 2) throw new ArgumentException($"{ops} input must be 2-D [batch, features]; add a Flatten before it.");
                return site.Forward(linear.Forward(a[0]));
            }, linear);
        }

        private void ImportFlatten(OnnxNode n)
        {
            int axis = (int)n.Int("axis", 1);
            n.CheckAllRead();
            OnlyFirstOutput(n);
            string x = Data(n, 0);
            Step(n, NodeName(n), "Flatten", [x], n.Outputs[0], null, a =>
            {
                var s = a[0].Shape;
                int ax = axis < 0 ? axis + s.Rank : axis;
                if (ax < 0 || ax > s.Rank) throw new ArgumentException($"Flatten axis {axis} is out of range for rank {s.Rank}.");
                return Fn.Reshape(a[0], s.SizeOf(0, ax), s.SizeOf(ax, s.Rank));
            });
        }

        private void ImportReshape(OnnxNode n)
        {
            long[] shape = _opset < 5 ? n.Ints("shape") ?? throw n.Error("attribute shape is required.", "shape") : ConstInts(n, 1, "shape");
            if (n.Int("allowzero", 0) != 0) throw n.Error("allowzero=1 is not supported.", "allowzero");
            n.CheckAllRead();
            OnlyFirstOutput(n);
            string x = Data(n, 0);
            Step(n, NodeName(n), "Reshape", [x], n.Outputs[0], null, a =>
            {
                var dims = new int[shape.Length];
                for (int i = 0; i < dims.Length; i++)
                    dims[i] = shape[i] == 0 ? a[0].Shape[i] : checked((int)shape[i]); // 0 copies the input's dim
                return Fn.Reshape(a[0], dims);
            });
        }

        private void ImportConcat(OnnxNode n)
        {
            int axis = (int)n.Int("axis", 1);
            n.CheckAllRead();
            OnlyFirstOutput(n);
            var xs = Enumerable.Range(0, n.Inputs.Count).Select(i => Data(n, i)).ToArray();
            string name = NodeName(n);
            var site = _m.AddTap(name, new ActivationSite()); // the parts' grids differ: one grid for the result
            Step(n, name, "Concat", xs, n.Outputs[0], site, a =>
                site.Forward(Fn.Concat(a, axis < 0 ? axis + a[0].Shape.Rank : axis)));
        }

        private void ImportResize(OnnxNode n)
        {
            string mode = n.String("mode", "nearest");
            if (mode != "nearest") throw n.Error($"mode={mode} is not supported (only nearest).", "mode");
            // Opset ≤ 10 (Upsample, Resize-10): asymmetric coordinates, floor. Opset 11+: half_pixel and round_prefer_floor by default.
            string coord = n.String("coordinate_transformation_mode", _opset <= 10 ? "asymmetric" : "half_pixel");
            string nearest = n.String("nearest_mode", _opset <= 10 ? "floor" : "round_prefer_floor");
            if (n.Int("exclude_outside", 0) != 0) throw n.Error("exclude_outside=1 is not supported.", "exclude_outside");
            if (n.Int("antialias", 0) != 0) throw n.Error("antialias=1 is not supported.", "antialias");
            n.Ignore("cubic_coeff_a", "extrapolation_value"); // unused by nearest with these coordinate modes
            bool halfPixel = coord is "half_pixel" or "pytorch_half_pixel" or "tf_half_pixel_for_nn";
            if (!halfPixel && !(coord == "asymmetric" && nearest == "floor"))
                throw n.Error($"coordinate_transformation_mode={coord} with nearest_mode={nearest} is not supported (half_pixel with integer factors, or asymmetric with floor).",
                              "coordinate_transformation_mode");
            float[]? scales = null;
            long[]? sizes = null;
            if (n.OpType == "Upsample" && _opset < 9) scales = n.Floats("scales") ?? throw n.Error("attribute scales is required.", "scales");
            else if (n.OpType == "Upsample" || _opset <= 10) scales = ConstTensor(n, 1, "scales").ToArray();
            else
            {
                if (n.Input(3) is not null) sizes = ConstInts(n, 3, "sizes");
                else scales = ConstTensor(n, 2, "scales").ToArray();
            }
            n.CheckAllRead();
            OnlyFirstOutput(n);
            if (scales is { Length: not 4 } || sizes is { Length: not 4 }) throw n.Error("scales/sizes must have 4 entries (NCHW).");
            if (scales is not null && (scales[0] != 1f || scales[1] != 1f)) throw n.Error("only H and W may be resized (scales on N and C must be 1).");
            string x = Data(n, 0);
            Step(n, NodeName(n), n.OpType, [x], n.Outputs[0], null, a =>
            {
                var s = a[0].Shape;
                if (sizes is not null && (sizes[0] != s[0] || sizes[1] != s[1])) throw new ArgumentException("only H and W may be resized.");
                int oh = sizes is not null ? (int)sizes[2] : (int)MathF.Floor(s[2] * scales![2]);
                int ow = sizes is not null ? (int)sizes[3] : (int)MathF.Floor(s[3] * scales![3]);
                if (halfPixel && (oh % s[2] != 0 || ow % s[3] != 0))
                    throw new ArgumentException($"half-pixel nearest resize from {s[2]}×{s[3]} to {oh}×{ow} is not an integer factor.");
                // Integer factors: every ONNX coordinate mode accepted above picks source ⌊dst / factor⌋; asymmetric+floor
                // picks ⌊dst · in / out⌋ for any size — Fn.UpsampleNearest's rule.
                return Fn.UpsampleNearest(a[0], oh, ow);
            });
        }

        private void ImportDropout(OnnxNode n)
        {
            n.Ignore("ratio", "is_test", "seed", "consumed_inputs"); // inference: the identity
            n.CheckAllRead();
            if (n.Input(2) is { } mode && (!IsConst(mode) || ConstInts(n, 2, "training_mode").Any(v => v != 0)))
                throw n.Error("training_mode other than a constant false is not supported (an imported Dropout is the identity).");
            Alias(n, 0);
        }

        private void ImportConstant(OnnxNode n)
        {
            var a = n.Proto.Attribute.FirstOrDefault(a => a.Name == "value")
                ?? throw n.Error($"only the tensor form (attribute value) is supported; found {string.Join(", ", n.Proto.Attribute.Select(x => x.Name))}.",
                                 n.Proto.Attribute.FirstOrDefault()?.Name);
            n.Ignore("value");
            n.CheckAllRead();
            var t = a.T.Clone();
            t.Name = n.Outputs[0];
            _constants[n.Outputs[0]] = t;
        }
    }
}
