using Nanoq.Autograd;
using Nanoq.Nn.Init;
using Nanoq.Nn.Layers;
using Nanoq.Nn.Taps;

namespace Nanoq.Nn.Backbones;

/// <summary>
/// MobileNetV2 with torchvision's layout (<c>features.0 … features.18, classifier.1</c>) and width multiplier α:
/// channels are α·c rounded to a multiple of 8 (never down by more than 10%), the last 1×1 conv has
/// 1280·max(1, α). Stages for FPN: C2 = features.3 (stride 4), C3 = features.6 (8), C4 = features.13 (16),
/// C5 = features.18 (32).
/// </summary>
public sealed class MobileNetV2 : Layer, IBackbone
{
    // t (expansion), c (channels), n (repeats), s (first stride) — Table 2 of the paper.
    private static readonly int[,] Setting = { { 1, 16, 1, 1 }, { 6, 24, 2, 2 }, { 6, 32, 3, 2 }, { 6, 64, 4, 2 }, { 6, 96, 3, 1 }, { 6, 160, 3, 2 }, { 6, 320, 1, 1 } };
    private static readonly int[] StageEnds = [3, 6, 13, 18];

    private readonly Sequential _features;

    /// <param name="numClasses">0 builds no classifier (a detection backbone).</param>
    public MobileNetV2(int numClasses = 1000, float widthMult = 1f, ulong seed = 0, float dropout = 0.2f)
    {
        var rng = new Rng(seed);
        int inC = MakeDivisible(32 * widthMult);
        int lastC = MakeDivisible(1280 * Math.Max(1f, widthMult));
        _features = new Sequential(new ConvNormActivation(3, inC, 3, 2, 1, ActivationKind.Relu6, rng));
        for (int i = 0; i < Setting.GetLength(0); i++)
        {
            int outC = MakeDivisible(Setting[i, 1] * widthMult);
            for (int r = 0; r < Setting[i, 2]; r++)
            {
                _features.Add(new InvertedResidual(inC, outC, r == 0 ? Setting[i, 3] : 1, Setting[i, 0], rng));
                inC = outC;
            }
        }
        _features.Add(new ConvNormActivation(inC, lastC, 1, 1, 1, ActivationKind.Relu6, rng));
        Child("features", _features);
        StageChannels = StageEnds.Select(OutChannels).ToArray();
        if (numClasses > 0)
            Classifier = Child("classifier", new Sequential(new Dropout(dropout, rng.Fork()), new Linear(lastC, numClasses, rng: rng)));

        // torchvision: convs Kaiming normal (fan_out), linear N(0, 0.01) with zero bias.
        foreach (var (_, m) in NamedModules())
        {
            if (m is Conv2d c) Initializers.KaimingNormal(c.Weight.Value, rng, fanOut: true);
            if (m is Linear l) { rng.FillNormal(l.Weight.Value.Span, 0f, 0.01f); l.Bias?.Value.Clear(); }
        }
    }

    public int[] StageChannels { get; }
    public Sequential? Classifier { get; }

    /// <summary><c>features.0 … features.18</c> (read-only, for conversion to the integer runtime).</summary>
    public Sequential Features => _features;

    /// <summary>The feature indices whose outputs are C2, C3, C4, C5.</summary>
    public static IReadOnlyList<int> StageFeatureIndices => StageEnds;

    /// <summary>torchvision's <c>_make_divisible(v, 8)</c>: round to the nearest multiple of 8, at least 8, never below 90% of v.</summary>
    public static int MakeDivisible(float v, int divisor = 8)
    {
        int n = Math.Max(divisor, (int)(v + divisor / 2f) / divisor * divisor);
        if (n < 0.9f * v) n += divisor;
        return n;
    }

    private int OutChannels(int featureIndex)
    {
        // The channel count after features[featureIndex]: the last BatchNorm inside it.
        var bn = _features[featureIndex].NamedModules().Select(m => m.Module).OfType<BatchNorm2d>().Last();
        return bn.Channels;
    }

    public Var[] Stages(Var x)
    {
        var c = new Var[4];
        int s = 0;
        for (int i = 0; i < _features.Layers.Count; i++)
        {
            x = _features[i].Forward(x);
            if (s < 4 && i == StageEnds[s]) c[s++] = x;
        }
        return c;
    }

    public override Var Forward(Var x)
    {
        if (Classifier is null) throw new InvalidOperationException("This MobileNetV2 was built without a classifier (numClasses = 0); use Stages().");
        return Classifier.Forward(Fn.GlobalAvgPool(Stages(x)[3]));
    }
}
