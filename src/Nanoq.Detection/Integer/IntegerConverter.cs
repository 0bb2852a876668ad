using Nanoq.Detection.Integer;
using Nanoq.Kernels.Integer;
using Nanoq.Nn.Backbones;
using Nanoq.Nn.Layers;
using Nanoq.Nn.Taps;
using Nanoq.Quant;
using Nanoq.Quant.Convert;
using Nanoq.Quant.Integer;
using Nanoq.Quant.Modules;
using Nanoq.Quant.Taps;

namespace Nanoq.Detection;

/// <summary>
/// Offline conversion (float allowed) of a quantized RetinaNet — quantizers installed by <see cref="ModelQuantizer"/>,
/// calibrated, usually fine-tuned — into the integer-only <see cref="IntRetinaNetGraph"/>, wrapped with its float edges
/// as an <see cref="IntegerRetinaNet"/>.
/// <para>
/// The walk mirrors the float forward module by module and carries each activation's quantizer parameters (Δ, z) along,
/// because a layer's integer constants depend on its input's grid as well as its own: every conv unit becomes an
/// <see cref="IntConvUnit"/> (<see cref="ConvConverter"/>: input = the producer's output quantizer), every add an
/// <see cref="IntAddUnit"/> (<see cref="AddConverter"/>: operands = their producers' quantizers, output = the add's
/// site), and the code-only steps (max pooling, nearest upsampling, the ReLU before P7) pass the grid through unchanged.
/// Quantizers are looked up in <paramref name="registry"/> by name (the tap name + ".weight" / ".out", the site name),
/// which must be the registry of this model.
/// </para>
/// <para>
/// <paramref name="rounding"/> chooses how each conv rounds acc·M: gemmlowp's double rounding (DESIGN.md §5, the
/// default) or TFLite's single rounding. At 4 bits M is large (a few hundredths), so double rounding's first step
/// rounds to a grid of only 2^−(3…6) output steps and about 1–2% of a conv's codes come out one step away from the
/// fake-quant model; single rounding removes that part, leaving the bias's rounding to the Δ_w·Δ_x grid (the fake-quant
/// model keeps its bias in float).
/// </para>
/// </summary>
public static class IntegerConverter
{
    public static IntegerRetinaNet Convert(RetinaNet model, QuantRegistry registry, RequantRounding rounding = RequantRounding.Double)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(registry);
        _ = model.NamedTaps().ToList(); // walking the taps stores each one's full dotted name
        return new Walker(model, registry, rounding).Run();
    }

    private sealed class Walker(RetinaNet model, QuantRegistry registry, RequantRounding rounding)
    {
        /// <summary>The output grid of every converted layer, by key; "input" for the image.</summary>
        private readonly Dictionary<string, QParams> _grids = new(StringComparer.Ordinal);

        public IntegerRetinaNet Run()
        {
            var input = Site(model.InputSite);
            _grids["input"] = input;
            var (backbone, c) = model.Backbone switch
            {
                ResNet r => ResNet(r, input),
                MobileNetV2 m => MobileNet(m, input),
                var b => throw new NotSupportedException($"IntegerConverter: no integer counterpart for a {b.GetType().Name} backbone."),
            };
            var (fpn, levels) = Fpn(model.Fpn, c);
            var head = Head(model.Head, levels);
            var graph = new IntRetinaNetGraph(input.ZeroPoint, input.Bits, backbone, fpn, head);
            return new IntegerRetinaNet(model.Config, graph, input, _grids[head.ClsLogits[0].Key], _grids[head.BboxPred[0].Key], _grids);
        }

        private (IIntBackbone, QParams[]) ResNet(ResNet r, QParams x)
        {
            var stem = Conv(r.Stem, x);
            x = _grids[stem.Key]; // max pooling keeps the stem's grid
            var stages = new List<IReadOnlyList<IIntBlock>>();
            var c = new QParams[4];
            for (int s = 0; s < 4; s++)
            {
                var blocks = new List<IIntBlock>();
                foreach (var layer in r.Layers[s].Layers)
                {
                    switch (layer)
                    {
                        case BasicBlock b:
                        {
                            var c1 = Conv(b.Unit1, x);
                            var c2 = Conv(b.Unit2, Out(c1));
                            var ds = b.Downsample is null ? null : Conv(b.Downsample.Unit, x);
                            var add = Add(b.Add, Out(c2), ds is null ? x : Out(ds));
                            blocks.Add(new IntBasicBlock(c1, c2, ds, add));
                            x = Out(add);
                            break;
                        }
                        case Bottleneck b:
                        {
                            var c1 = Conv(b.Unit1, x);
                            var c2 = Conv(b.Unit2, Out(c1));
                            var c3 = Conv(b.Unit3, Out(c2));
                            var ds = b.Downsample is null ? null : Conv(b.Downsample.Unit, x);
                            var add = Add(b.Add, Out(c3), ds is null ? x : Out(ds));
                            blocks.Add(new IntBottleneck(c1, c2, c3, ds, add));
                            x = Out(add);
                            break;
                        }
                        default:
                            throw new NotSupportedException($"IntegerConverter: a {layer.GetType().Name} in a ResNet stage.");
                    }
                }
                stages.Add(blocks);
                c[s] = x;
            }
            return (new IntResNet(stem, r.MaxPool.Kernel, r.MaxPool.Stride, r.MaxPool.Padding, stages), c);
        }

        private (IIntBackbone, QParams[]) MobileNet(MobileNetV2 m, QParams x)
        {
            var features = new List<IIntBlock>();
            var ends = MobileNetV2.StageFeatureIndices;
            var c = new QParams[4];
            for (int i = 0; i < m.Features.Layers.Count; i++)
            {
                switch (m.Features[i])
                {
                    case ConvNormActivation cna:
                    {
                        var conv = Conv(cna.Unit, x);
                        features.Add(conv);
                        x = Out(conv);
                        break;
                    }
                    case InvertedResidual ir:
                    {
                        var pre = new List<IntConvUnit>();
                        var h = x;
                        foreach (var p in ir.Pre)
                        {
                            pre.Add(Conv(p.Unit, h));
                            h = Out(pre[^1]);
                        }
                        var project = Conv(ir.Project, h);
                        var add = ir.Add is null ? null : Add(ir.Add, x, Out(project));
                        features.Add(new IntInvertedResidual(pre, project, add));
                        x = add is null ? Out(project) : Out(add);
                        break;
                    }
                    default:
                        throw new NotSupportedException($"IntegerConverter: a {m.Features[i].GetType().Name} among MobileNetV2's features.");
                }
                int s = ends.ToList().IndexOf(i);
                if (s >= 0) c[s] = x;
            }
            return (new IntMobileNetV2(features, ends.ToArray()), c);
        }

        private (IntFeaturePyramid, QParams[]) Fpn(FeaturePyramid f, QParams[] c)
        {
            var lat5 = Conv(f.Lateral[2], c[3]);
            var lat4 = Conv(f.Lateral[1], c[2]);
            var td4 = Add(f.TopDown[1], Out(lat4), Out(lat5));   // up(inner5) keeps inner5's grid
            var lat3 = Conv(f.Lateral[0], c[1]);
            var td3 = Add(f.TopDown[0], Out(lat3), Out(td4));
            var p6 = Conv(f.P6, c[3]);
            var p7 = Conv(f.P7, Out(p6));                        // ReLU of codes stays on P6's grid
            var out3 = Conv(f.Output[0], Out(td3));
            var out4 = Conv(f.Output[1], Out(td4));
            var out5 = Conv(f.Output[2], Out(lat5));
            var fpn = new IntFeaturePyramid([lat3, lat4, lat5], [out3, out4, out5], [td3, td4], p6, p7);
            return (fpn, [Out(out3), Out(out4), Out(out5), Out(p6), Out(p7)]);
        }

        private IntRetinaNetHead Head(RetinaNetHead h, QParams[] levels)
        {
            var cls = Branch(h.ClsConvs.Append(h.ClsLogits).ToList(), levels);
            var box = Branch(h.BoxConvs.Append(h.BboxPred).ToList(), levels);
            return new IntRetinaNetHead(cls[..^1], box[..^1], cls[^1], box[^1], h.NumAnchors, h.NumClasses);
        }

        /// <summary>
        /// One subnet, [position][level]: the first conv reads the pyramid, so it gets one variant per level (shared weight
        /// codes; z_x, bias_q, M from that level's grid); the rest read the shared output grid of the conv before.
        /// </summary>
        private List<IReadOnlyList<IntConvUnit>> Branch(List<ConvUnit> units, QParams[] levels)
        {
            var result = new List<IReadOnlyList<IntConvUnit>>();
            var first = new IntConvUnit[levels.Length];
            for (int l = 0; l < levels.Length; l++) first[l] = Conv(units[0], levels[l], $"P{l + 3}");
            result.Add(first);
            var x = Out(first[0]);
            foreach (var u in units.Skip(1))
            {
                var conv = Conv(u, x);
                result.Add(Enumerable.Repeat(conv, levels.Length).ToArray());
                x = Out(conv);
            }
            return result;
        }

        private QParams Out(IIntUnit layer) => _grids[layer.Key];

        private IntConvUnit Conv(ConvUnit unit, QParams input, string? binding = null)
        {
            var qconv = (unit.Implementation as QuantizedConvUnit)?.Layer
                        ?? throw new InvalidOperationException($"IntegerConverter: '{unit.Name}' has no quantized implementation (ModelQuantizer.Install, calibrate, then convert).");
            if (!registry.TryGet(unit.Name + ".weight", out var wq) || !ReferenceEquals(wq, qconv.WeightQuantizer))
                throw new InvalidOperationException($"IntegerConverter: the registry has no weight quantizer '{unit.Name}.weight' of this model (a registry of another model?).");
            var spec = ConvConverter.Convert(unit.Name, qconv, input);
            if (spec.Dilation != 1) throw new NotSupportedException($"IntegerConverter: '{unit.Name}' has dilation {spec.Dilation}; the integer conv layer takes 1.");
            var rq = new Requantization(spec.Multipliers, spec.Shifts, spec.Output.ZeroPoint, spec.ClampMin, spec.ClampMax, rounding);
            string key = binding is null ? unit.Name : unit.Name + "@" + binding;
            var layer = new IntConvLayer(key, spec.InChannels, spec.OutChannels, spec.Kernel, spec.Kernel, spec.Stride, spec.Stride,
                                         spec.Padding, spec.Padding, spec.Dilation, spec.Dilation, spec.Groups, spec.WeightCodes,
                                         spec.WeightZeroPoints, spec.WeightBits, input.ZeroPoint, input.Bits, spec.Bias, rq);
            var conv = new IntConvUnit(unit.Name, layer, spec.Output.Bits, binding);
            _grids[conv.Key] = spec.Output;
            return conv;
        }

        private IntAddUnit Add(AddUnit unit, QParams a, QParams b)
        {
            var output = Site(unit.Output);
            var add = new IntAddUnit(new IntAddLayer(unit.Name, AddConverter.Convert(a, b, output, unit.Activation)), output.Bits);
            _grids[add.Key] = output;
            return add;
        }

        private QParams Site(ActivationSite site)
        {
            if (!registry.TryGet(site.Name, out var q) || q is not ActQuantizer act)
                throw new InvalidOperationException($"IntegerConverter: the registry has no activation quantizer '{site.Name}' (quantize the model with ModelQuantizer.Install).");
            if (act.Scheme != QuantScheme.Affine)
                throw new NotSupportedException($"IntegerConverter: '{site.Name}' is a {act.Scheme} quantizer; only the affine scheme converts.");
            return act.Current ?? throw new InvalidOperationException($"IntegerConverter: '{site.Name}' is not calibrated.");
        }
    }
}
