using System.Globalization;
using Nanoq.Autograd;
using Nanoq.Kernels.Integer;
using Nanoq.Nn;
using Nanoq.Nn.Taps;
using Nanoq.Quant.Integer;
using Nanoq.Quant.Integer.Program;

namespace Nanoq.Quant.Convert;

/// <summary>
/// Offline conversion (float allowed) of any quantized model — quantizers installed at its taps, calibrated, usually
/// fine-tuned — into an <see cref="IntegerModel"/>: the <see cref="IntProgram"/> plus its float edges. No model's
/// topology is written here: conversion traces one evaluation-mode forward (<see cref="OpTrace"/>) and turns each
/// recorded op into an integer op, carrying every value's grid (Δ, z) along, because an op's constants depend on its
/// input's grid as well as its own:
/// <list type="bullet">
/// <item>an <see cref="ActivationSite"/> reading the float input → a program input (the edge quantizes it with the
/// site's grid);</item>
/// <item>a <see cref="ConvUnit"/> → <see cref="IntConvOp"/> (<see cref="ConvConverter"/>; a shared unit's later calls
/// share the first call's weight codes); a <see cref="LinearUnit"/> → <see cref="IntLinearOp"/>; an
/// <see cref="AddUnit"/> → <see cref="IntAddOp"/> (<see cref="AddConverter"/>);</item>
/// <item>max pooling, nearest upsampling, ReLU/ReLU6, concatenation (inputs on one grid), flattening → code ops that keep
/// their input's grid;</item>
/// <item>a (multi-scale) RoIAlign followed by the <see cref="ActivationSite"/> that quantizes its output → one
/// <see cref="IntRoiAlignOp"/> onto that site's grid; its RoIs are a side input at run time (<see cref="IIntSideInputs"/>);</item>
/// <item>the forward's returned tensors → program outputs (the edge dequantizes them).</item>
/// </list>
/// A tensor that no recorded op produced (float computation between taps) is an error naming the op that reads it,
/// so a program never silently skips part of the model.
/// <para>
/// <paramref name="rounding"/>: how each conv/fc rounds acc·M — gemmlowp's double rounding (DESIGN.md §5, the default) or
/// TFLite's single rounding (see <see cref="RequantRounding"/>).
/// </para>
/// </summary>
public static class ProgramConverter
{
    /// <summary>
    /// Traces <paramref name="forward"/> (images → the network's raw outputs) on <paramref name="sample"/> in evaluation
    /// mode and converts it. The weight quantizers' grids are the ones this forward leaves in their buffers (the
    /// deployed, running-statistics fold).
    /// </summary>
    public static IntegerModel Convert(Module model, Func<Var, IReadOnlyList<Var>> forward, Tensor sample,
                                       RequantRounding rounding = RequantRounding.Double, IReadOnlyDictionary<string, string>? metadata = null)
    {
        _ = model.NamedTaps().ToList(); // walking the taps stores each one's full dotted name
        bool wasTraining = model.Training;
        model.Eval();
        var recorder = new Recorder(rounding);
        try
        {
            using var _ = GradMode.NoGrad();
            using var tape = new Tape();
            var image = new Var(sample);
            recorder.FloatInput = image;
            IReadOnlyList<Var> outputs;
            using (OpTrace.Record(recorder)) outputs = forward(image);
            return recorder.Finish(outputs, metadata);
        }
        finally
        {
            model.Train(wasTraining);
        }
    }

    private sealed class Recorder(RequantRounding rounding) : IOpRecorder
    {
        private readonly Dictionary<Var, int> _ids = new(ReferenceEqualityComparer.Instance);
        private readonly List<IntValue> _values = new();
        private readonly List<QParams> _grids = new();
        private readonly List<int> _inputs = new();
        private readonly List<IntOp> _ops = new();
        private readonly Dictionary<object, (string Name, int Calls)> _layers = new(ReferenceEqualityComparer.Instance);
        private readonly Dictionary<string, int> _opCounts = new(StringComparer.Ordinal);
        private readonly Dictionary<Var, (int[] Levels, int[] Attributes)> _pendingRoiAlign = new(ReferenceEqualityComparer.Instance);

        /// <summary>
        /// RoIAlign over levels on their own grids, onto the grid of the site that quantizes its output, rounded once: per
        /// level the multiplier M_l = Δ_l / (Δ_site · 2^22) applies to the Q22 accumulators (attributes: pooled h, pooled w,
        /// sampling ratio, aligned).
        /// </summary>
        private IntRoiAlignOp RoiAlignOp(string name, int[] levels, int[] attributes, int output)
        {
            if (attributes.Length < 4 || attributes[3] != 0)
                throw new NotSupportedException($"integer conversion: '{name}' pools with aligned = true; the integer RoIAlign plans follow torchvision's Faster R-CNN (aligned = false).");
            var y = _grids[output];
            var requant = levels.Select(l =>
            {
                double real = (double)_grids[l].Scale / y.Scale / (1 << IntRoiAlignPlan.FractionBits);
                var m = QuantizedMultiplier.Quantize(real);
                if (m.Multiplier == 0)
                    throw new NotSupportedException($"integer conversion: '{name}': level '{_values[l].Name}' has a step {_grids[l].Scale / y.Scale:G3} times the output's, too small for a Q31 multiplier of Q22 accumulators.");
                return Requantization.PerTensor(m.Multiplier, m.Shift, y.ZeroPoint, 0, y.QMax, rounding);
            }).ToArray();
            return new IntRoiAlignOp(name, levels, output, attributes[0], attributes[1], attributes[2], levels.Select(l => _grids[l].ZeroPoint).ToArray(), requant);
        }

        public Var? FloatInput { get; set; }

        public void Op(string op, IReadOnlyList<Var> inputs, Var output, int[] attributes, object? layer)
        {
            switch (layer)
            {
                case ActivationSite site:
                    if (_pendingRoiAlign.Remove(inputs[0], out var roi))
                    {
                        var (siteName, _) = Call(site, site.Name);
                        _ops.Add(RoiAlignOp(siteName, roi.Levels, roi.Attributes, Define(output, siteName, ConvConverter.OutputGrid(siteName, site))));
                        return;
                    }
                    if (!ReferenceEquals(inputs[0], FloatInput))
                        throw new NotSupportedException($"integer conversion: '{site.Name}' quantizes a tensor other than the input image or a RoIAlign output; the integer program has no general requantize op yet.");
                    _inputs.Add(Define(output, site.Name, ConvConverter.OutputGrid(site.Name, site)));
                    return;
                case ConvUnit conv:
                {
                    int x = Id(inputs[0], conv.Name);
                    var (name, weightsFrom) = Call(conv, conv.Name);
                    var spec = ConvConverter.Convert(name, conv, _grids[x]);
                    var rq = new Requantization(spec.Multipliers, spec.Shifts, spec.Output.ZeroPoint, spec.ClampMin, spec.ClampMax, rounding);
                    var l = new IntConvLayer(name, spec.InChannels, spec.OutChannels, spec.Kernel, spec.Kernel, spec.Stride, spec.Stride,
                        spec.Padding, spec.Padding, spec.Dilation, spec.Dilation, spec.Groups, spec.WeightCodes, spec.WeightZeroPoints,
                        spec.WeightBits, spec.Input.ZeroPoint, spec.Input.Bits, spec.Bias, rq);
                    _ops.Add(new IntConvOp(name, x, Define(output, name, spec.Output), l, weightsFrom));
                    return;
                }
                case LinearUnit lin:
                {
                    int x = Id(inputs[0], lin.Name);
                    var (name, _) = Call(lin, lin.Name);
                    var l = LinearConverter.Convert(name, lin, _grids[x], rounding);
                    _ops.Add(new IntLinearOp(name, x, Define(output, name, ConvConverter.OutputGrid(name, lin)), l));
                    return;
                }
                case AddUnit add:
                {
                    int a = Id(inputs[0], add.Name), b = Id(inputs[1], add.Name);
                    var (name, _) = Call(add, add.Name);
                    var grid = ConvConverter.OutputGrid(name, add);
                    var p = AddConverter.Convert(_grids[a], _grids[b], grid, add.Activation);
                    _ops.Add(new IntAddOp(name, a, b, Define(output, name, grid), new IntAddLayer(name, p)));
                    return;
                }
                case Tap other:
                    throw new NotSupportedException($"integer conversion: no integer op for a {other.GetType().Name} ('{other.Name}').");
            }
            if (op == "roialign")
            {
                // Its output is on no single grid (each level keeps its own): it becomes an op when a site quantizes it.
                _pendingRoiAlign[output] = (inputs.Select(v => Id(v, "roialign")).ToArray(), attributes);
                return;
            }
            // Value-preserving ops: the output is on the (first) input's grid.
            string opName = OpName(op);
            int first = Id(inputs[0], opName);
            var g = _grids[first];
            switch (op)
            {
                case "maxpool":
                    _ops.Add(new IntMaxPoolOp(opName, first, Define(output, opName, g), attributes[0], attributes[1], attributes[2]));
                    break;
                case "upsample":
                    _ops.Add(new IntUpsampleOp(opName, first, Id(inputs[1], opName), Define(output, opName, g)));
                    break;
                case "relu":
                    _ops.Add(new IntClampOp(opName, first, Define(output, opName, g), g.ZeroPoint, g.QMax));
                    break;
                case "relu6":
                    var (lo, hi) = ActivationClamp.For(ActivationKind.Relu6, g);
                    _ops.Add(new IntClampOp(opName, first, Define(output, opName, g), lo, hi));
                    break;
                case "concat":
                    var ids = inputs.Select(v => Id(v, opName)).ToArray();
                    foreach (int v in ids)
                        if (_grids[v] != g)
                            throw new NotSupportedException($"integer conversion: {opName} joins '{_values[v].Name}' ({_grids[v]}) and '{_values[first].Name}' ({g}); concatenated codes must share a grid.");
                    _ops.Add(new IntConcatOp(opName, ids, Define(output, opName, g), attributes[0]));
                    break;
                case "flatten":
                    _ops.Add(new IntFlattenOp(opName, first, Define(output, opName, g), attributes[0]));
                    break;
                case "slice":
                    _ops.Add(new IntSliceOp(opName, first, Define(output, opName, g), attributes[0], attributes[1], attributes[2], inputs[0].Shape[attributes[0]]));
                    break;
                default:
                    throw new NotSupportedException($"integer conversion: no integer op for '{op}'.");
            }
        }

        /// <summary>A layer's op name for this call: its tap name, then "#1", "#2"… for later calls; and the op holding its weights.</summary>
        private (string Name, string? WeightsFrom) Call(object layer, string tapName)
        {
            if (!_layers.TryGetValue(layer, out var seen))
            {
                _layers[layer] = (tapName, 1);
                return (tapName, null);
            }
            _layers[layer] = (seen.Name, seen.Calls + 1);
            return ($"{tapName}#{seen.Calls}", seen.Name);
        }

        private string OpName(string op)
        {
            int k = _opCounts.GetValueOrDefault(op);
            _opCounts[op] = k + 1;
            return k == 0 ? op : string.Create(CultureInfo.InvariantCulture, $"{op}#{k}");
        }

        private int Define(Var v, string name, QParams grid)
        {
            int id = _values.Count;
            _values.Add(new IntValue(id, name, grid.ZeroPoint, grid.Bits));
            _grids.Add(grid);
            _ids[v] = id;
            return id;
        }

        private int Id(Var v, string reader)
        {
            if (_ids.TryGetValue(v, out int id)) return id;
            if (_pendingRoiAlign.ContainsKey(v))
                throw new NotSupportedException($"integer conversion: '{reader}' reads a RoIAlign output directly; quantize it at an activation site first.");
            if (ReferenceEquals(v, FloatInput))
                throw new NotSupportedException($"integer conversion: '{reader}' reads the float input image directly; quantize it at an input site first.");
            throw new NotSupportedException($"integer conversion: '{reader}' reads a tensor that no tap or traced op produced (float computation between layers?).");
        }

        public IntegerModel Finish(IReadOnlyList<Var> outputs, IReadOnlyDictionary<string, string>? metadata)
        {
            if (_inputs.Count == 0) throw new NotSupportedException("integer conversion: the forward never quantized its input (no input site).");
            var outIds = outputs.Select((v, i) => _ids.TryGetValue(v, out int id) ? id
                : throw new NotSupportedException($"integer conversion: output {i} is not the result of a traced op (float computation after the last layer?).")).ToArray();
            var program = new IntProgram(_values, _inputs, _ops, outIds);
            return new IntegerModel(program, _grids.Select(g => g.Scale).ToArray(), metadata);
        }
    }
}
