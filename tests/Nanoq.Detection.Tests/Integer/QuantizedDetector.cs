using Nanoq.Autograd;
using Nanoq.Kernels.Integer;
using Nanoq.Nn.Layers;
using Nanoq.Nn.Taps;
using Nanoq.Quant;
using Nanoq.Quant.Integer.Program;
using Nanoq.Quant.Quantizers;
using Nanoq.Quant.Taps;

namespace Nanoq.Detection.Tests.Integer;

/// <summary>
/// A tiny RetinaNet quantized the FQN way (F + P + C, 4 bits unless told) without fine-tuning: batch-norm statistics, affine
/// parameters and conv biases randomized first (so folding and bias_q are exercised; a fresh model has γ = 1, β = 0,
/// μ = 0, σ² = 1 and zero biases), then quantizers installed and activation ranges calibrated on three random batches.
/// <see cref="Reference"/> runs the fake-quant model (eval mode) and records the codes every op produced, named as the
/// integer program names its ops.
/// </summary>
internal sealed class QuantizedDetector
{
    public static RetinaNetConfig Tiny(string backbone = "resnet18") =>
        RetinaNetConfig.Small(2) with { Backbone = backbone, BackboneWidth = 0.125f, FpnChannels = 16, HeadConvs = 1, InputSize = 64 };

    public QuantizedDetector(RetinaNetConfig config, ulong seed, int bits = 4, bool liveHeads = false, QuantRecipe? recipe = null)
    {
        Model = new Detection.RetinaNet(config, seed);
        var rng = new Rng(seed + 100);
        Randomize(Model, rng, liveHeads);
        Registry = ModelQuantizer.Install(Model, recipe ?? QuantRecipe.Fqn(bits));
        var batches = Enumerable.Range(0, 3).Select(i => Images(rng, 2, config.InputSize)).ToList();
        Calibrator.Calibrate(Model, batches, b => Model.Forward(new Var(b)), batches.Count);
        Model.Eval();
    }

    /// <summary>As after training: BN statistics and affine parameters, conv biases random; optionally lively heads.</summary>
    public static void Randomize(Detection.RetinaNet model, Rng rng, bool liveHeads)
    {
        if (liveHeads)
        {
            // Head weights 10× torchvision's init and class biases around −1, so the head codes spread over the grid
            // (a fresh head's logits all sit at the score floor: one code).
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

    public Detection.RetinaNet Model { get; }
    public QuantRegistry Registry { get; }

    /// <summary>The integer twin (one traced forward on a 64-px sample).</summary>
    public IntegerDetector Convert(RequantRounding rounding = RequantRounding.Double) =>
        Detectors.Convert(Model, Tensor.Zeros(1, 3, 64, 64), rounding);

    /// <summary>Normalized-looking images: noise plus a few bright and dark squares.</summary>
    public static Tensor Images(Rng rng, int n, int size)
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

    /// <summary>
    /// Runs the fake-quant model on <paramref name="images"/> and returns the codes of every op's output by the name the
    /// integer program gives the op (a tap's name, "#k" for its k-th later call; "maxpool", "upsample#1"…), and the raw
    /// outputs. The codes are FakeQuant.Codes of each output on its grid — exact, since the output is on the grid.
    /// </summary>
    public (Dictionary<string, CodeTensor> Codes, Tensor[] Outputs) Reference(Tensor images) => Record(Model, images);

    /// <summary><see cref="Reference"/> for any quantized detector in evaluation mode.</summary>
    public static (Dictionary<string, CodeTensor> Codes, Tensor[] Outputs) Record(IDetector model, Tensor images)
    {
        var recorder = new ReferenceRecorder();
        using var _ = GradMode.NoGrad();
        using var tape = new Tape();
        DetectorOutput o;
        using (OpTrace.Record(recorder)) o = model.Forward(new Var(images));
        return (recorder.Codes, o.Outputs.Select(v => v.Value.Clone()).ToArray());
    }

    /// <summary>
    /// The first-order model of the integer program's end-to-end differences, simulated: the fake-quant model run with
    /// every layer's output codes moved one step (up or down, at random, within the grid) at the rate
    /// <paramref name="rates"/>[layer] — each layer's own, teacher-forced rate of differing codes — and those moved codes
    /// propagated by the real downstream layers. Returns the raw outputs, to compare with an unperturbed run.
    /// </summary>
    public Tensor[] Perturbed(Tensor images, IReadOnlyDictionary<string, double> rates, Rng rng)
    {
        var recorder = new ReferenceRecorder { Rates = rates, Rng = rng };
        using var _ = GradMode.NoGrad();
        using var tape = new Tape();
        DetectorOutput o;
        using (OpTrace.Record(recorder)) o = Model.Forward(new Var(images));
        return o.Outputs.Select(v => v.Value.Clone()).ToArray();
    }

    private sealed class ReferenceRecorder : IOpRecorder
    {
        public IReadOnlyDictionary<string, double>? Rates { get; init; }
        public Rng? Rng { get; init; }

        private readonly Dictionary<object, int> _calls = new(ReferenceEqualityComparer.Instance);
        private readonly Dictionary<string, int> _ops = new(StringComparer.Ordinal);
        private readonly Dictionary<Var, QParams> _grids = new(ReferenceEqualityComparer.Instance);

        public Dictionary<string, CodeTensor> Codes { get; } = new(StringComparer.Ordinal);

        public void Op(string op, IReadOnlyList<Var> inputs, Var output, int[] attributes, object? layer)
        {
            string name;
            QParams grid;
            if (layer is Tap tap)
            {
                int k = _calls.GetValueOrDefault(tap);
                _calls[tap] = k + 1;
                name = k == 0 ? tap.Name : $"{tap.Name}#{k}";
                grid = ((FakeQuantizer)tap.OutputQuantizer!).Describe().ToQParams();
            }
            else
            {
                int k = _ops.GetValueOrDefault(op);
                _ops[op] = k + 1;
                name = k == 0 ? op : $"{op}#{k}";
                grid = _grids[inputs[0]];
            }
            _grids[output] = grid;
            // The image codes are the program's input, not an op's output; a site after an op (Faster R-CNN's roi_pool
            // after RoIAlign) is that op's output grid in the program, named by the site.
            if (layer is ActivationSite && name == "input") return;
            if (Rates is not null && Rates.TryGetValue(name.Split('#')[0], out double p) && p > 0)
            {
                // One step up or down at rate p, kept on the grid; written in place, so the layers after read it.
                var v = output.Value.Span;
                for (int i = 0; i < v.Length; i++)
                {
                    if (Rng!.Uniform(0f, 1f) >= p) continue;
                    int q = (int)MathF.Round(v[i] / grid.Scale) + grid.ZeroPoint;
                    q = Math.Clamp(q + (Rng.NextInt(0, 2) == 0 ? -1 : 1), 0, grid.QMax);
                    v[i] = (q - grid.ZeroPoint) * grid.Scale;
                }
                return;
            }
            Codes[name] = new CodeTensor(FakeQuant.Codes(output.Value, grid), output.Shape.ToArray(), grid.ZeroPoint, grid.Bits);
        }
    }
}
