using Nanoq.Autograd;
using Nanoq.Detection.Integer;
using Nanoq.Nn.Layers;
using Nanoq.Nn.Taps;
using Nanoq.Quant;
using Nanoq.Quant.Taps;

namespace Nanoq.Detection.Tests.Integer;

/// <summary>
/// A tiny RetinaNet quantized the FQN way (F + P + C, 4 bits unless told) without fine-tuning: batch-norm statistics, affine
/// parameters and conv biases randomized first (so folding and bias_q are exercised; a fresh model has γ = 1, β = 0,
/// μ = 0, σ² = 1 and zero biases), then quantizers installed and activation ranges calibrated on three random batches.
/// <see cref="Reference"/> runs the fake-quant model (eval mode) and records the codes every quantizer produced.
/// </summary>
internal sealed class QuantizedDetector
{
    public static RetinaNetConfig Tiny(string backbone = "resnet18") =>
        RetinaNetConfig.Small(2) with { Backbone = backbone, BackboneWidth = 0.125f, FpnChannels = 16, HeadConvs = 1, InputSize = 64 };

    public QuantizedDetector(RetinaNetConfig config, ulong seed, int bits = 4, bool liveHeads = false)
    {
        Model = new Detection.RetinaNet(config, seed);
        var rng = new Rng(seed + 100);
        if (liveHeads)
        {
            // Head weights 10× torchvision's init and class biases around −1, so the head codes spread over the grid
            // (a fresh head's logits all sit at the score floor: one code).
            foreach (var (_, m) in Model.Head.NamedModules())
                if (m is Conv2d c) rng.FillNormal(c.Weight.Value.Span, 0f, 0.1f);
            var b = Model.Head.ClsLogits.Conv.Bias!.Value.Span;
            for (int i = 0; i < b.Length; i++) b[i] = rng.Normal(-1f, 1f);
        }
        foreach (var (_, m) in Model.NamedModules())
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
            if (m is Conv2d { Bias: not null } conv && conv != Model.Head.ClsLogits.Conv)
                for (int c = 0; c < conv.OutChannels; c++) conv.Bias.Value.Span[c] = rng.Normal(0f, 0.05f);
        }
        Registry = ModelQuantizer.Install(Model, QuantRecipe.Fqn(bits));
        var batches = Enumerable.Range(0, 3).Select(i => Images(rng, 2, config.InputSize)).ToList();
        Calibrator.Calibrate(Model, batches, b => Model.Forward(new Var(b)), batches.Count);
        Model.Eval();
    }

    public Detection.RetinaNet Model { get; }
    public QuantRegistry Registry { get; }

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
    /// Runs the fake-quant model on <paramref name="images"/> and returns, per tap name (an add's name for its output
    /// site, "input" for the image), the codes its quantizer produced in each call (the head's: one per level), plus
    /// the heads. The codes are FakeQuant.Codes of the quantizer's own output — exact, since that output is on the grid.
    /// </summary>
    public (Dictionary<string, List<CodeTensor>> Codes, RetinaNetOutput Heads) Reference(Tensor images)
    {
        var codes = new Dictionary<string, List<CodeTensor>>(StringComparer.Ordinal);
        var restore = new List<Action>();
        void Record(string name, Var y, QParams q)
        {
            var s = y.Shape;
            var c = new CodeTensor(FakeQuant.Codes(y.Value, q), s[0], s[1], s[2], s[3], q.ZeroPoint, q.Bits);
            if (!codes.TryGetValue(name, out var list)) codes[name] = list = new List<CodeTensor>();
            list.Add(c);
        }
        foreach (var (name, tap) in Model.NamedTaps().ToList())
        {
            if (tap is ConvUnit { Implementation: QuantizedConvUnit qc } u)
            {
                var q = qc.Layer.OutputQuantizer!.Current!.Value;
                u.Implementation = new Recording(qc, (unit, y) => Record(unit.Name, y, q));
                restore.Add(() => u.Implementation = qc);
            }
            else if (tap is ActivationSite { Implementation: { } inner } site)
            {
                var q = ((Quant.Modules.ActQuantizer)Registry[name]).Current!.Value;
                string layer = name.EndsWith(".out", StringComparison.Ordinal) ? name[..^4] : name;
                site.Implementation = new RecordingSite(inner, y => Record(layer, y, q));
                restore.Add(() => site.Implementation = inner);
            }
        }
        try
        {
            using var _ = GradMode.NoGrad();
            var o = Model.Forward(new Var(images));
            var heads = new RetinaNetOutput(new Var(o.Logits.Value.Clone()), new Var(o.Deltas.Value.Clone()), o.GridSizes, o.ImageHeight, o.ImageWidth);
            return (codes, heads);
        }
        finally
        {
            foreach (var r in restore) r();
        }
    }

    private sealed class Recording(IConvUnitForward inner, Action<ConvUnit, Var> record) : IConvUnitForward
    {
        public Var Forward(ConvUnit unit, Var x)
        {
            var y = inner.Forward(unit, x);
            record(unit, y);
            return y;
        }
    }

    /// <summary>Runs a site's installed forward and hands its output to a recorder.</summary>
    private sealed class RecordingSite(IActivationSiteForward inner, Action<Var> record) : IActivationSiteForward
    {
        public Var Forward(Var x)
        {
            var y = inner.Forward(x);
            record(y);
            return y;
        }
    }
}
