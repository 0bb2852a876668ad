using Nanoq.Autograd;
using Nanoq.Nn;
using Nanoq.Nn.Layers;
using Nanoq.Nn.Taps;

namespace Nanoq.Detection;

/// <summary>
/// RetinaNet's two subnets, shared by every pyramid level (Lin et al. 2017, §4): n × (3×3 conv + ReLU), then a 3×3
/// predictor with A·K class logits (bias −log((1 − π)/π), so every anchor starts at foreground probability π) or
/// A·4 box deltas. Weights N(0, 0.01²), zero bias, as torchvision. Per level, [N, A·K, H, W] is read as
/// [N, H·W·A, K] (location-major, then anchor, matching the anchor generator's order); levels are concatenated.
/// </summary>
public sealed class RetinaNetHead : Module
{
    private readonly ConvUnit[] _cls, _box;
    private readonly ConvUnit _clsOut, _boxOut;

    public RetinaNetHead(int channels, int numAnchors, int numClasses, int numConvs, float prior, float scoreThreshold, Rng rng)
    {
        NumAnchors = numAnchors;
        NumClasses = numClasses;
        _cls = new ConvUnit[numConvs];
        _box = new ConvUnit[numConvs];
        for (int i = 0; i < numConvs; i++)
        {
            _cls[i] = Tap($"cls{i}", new ConvUnit(Child($"cls{i}", new Conv2d(channels, channels, 3, 1, 1, rng: rng)), null, ActivationKind.Relu));
            _box[i] = Tap($"box{i}", new ConvUnit(Child($"box{i}", new Conv2d(channels, channels, 3, 1, 1, rng: rng)), null, ActivationKind.Relu));
        }
        _clsOut = Tap("cls_logits", new ConvUnit(Child("cls_logits", new Conv2d(channels, numAnchors * numClasses, 3, 1, 1, rng: rng)), null, ActivationKind.None) { ConsumerFloor = LogitFloor(scoreThreshold) });
        _boxOut = Tap("bbox_pred", new ConvUnit(Child("bbox_pred", new Conv2d(channels, numAnchors * 4, 3, 1, 1, rng: rng)), null, ActivationKind.None));
        foreach (var (_, m) in NamedModules())
            if (m is Conv2d c)
            {
                rng.FillNormal(c.Weight.Value.Span, 0f, 0.01f);
                c.Bias?.Value.Clear();
            }
        _clsOut.Conv.Bias!.Value.Fill(-MathF.Log((1 - prior) / prior));
    }

    /// <summary>
    /// logit(t) = log(t / (1 − t)): the class logits at or below it never become detections (score σ(logit) ≤ t), which
    /// is what their quantizer may ignore. Null for t = 0 (every score is kept); box deltas have no floor.
    /// </summary>
    public static float? LogitFloor(float scoreThreshold) =>
        scoreThreshold > 0f && scoreThreshold < 1f ? MathF.Log(scoreThreshold / (1f - scoreThreshold)) : null;

    public int NumAnchors { get; }
    public int NumClasses { get; }

    /// <summary>The class subnet's conv + ReLU units (read-only, for conversion to the integer runtime).</summary>
    public IReadOnlyList<ConvUnit> ClsConvs => _cls;

    /// <summary>The box subnet's conv + ReLU units.</summary>
    public IReadOnlyList<ConvUnit> BoxConvs => _box;

    public ConvUnit ClsLogits => _clsOut;
    public ConvUnit BboxPred => _boxOut;

    /// <summary>Pyramid levels → (class maps [N, A·K, H, W], box maps [N, A·4, H, W]), one of each per level.</summary>
    public (Var[] ClassMaps, Var[] BoxMaps) Forward(IReadOnlyList<Var> levels)
    {
        var cls = new Var[levels.Count];
        var box = new Var[levels.Count];
        for (int l = 0; l < levels.Count; l++)
        {
            Var c = levels[l], b = levels[l];
            foreach (var u in _cls) c = u.Forward(c);
            foreach (var u in _box) b = u.Forward(b);
            cls[l] = _clsOut.Forward(c);
            box[l] = _boxOut.Forward(b);
        }
        return (cls, box);
    }

    /// <summary>Per-level maps [N, A·C, H, W] → [N, ΣH·W·A, C] (location-major, then anchor: the anchor generator's order).</summary>
    public Var Flatten(IReadOnlyList<Var> maps, int c)
    {
        var parts = maps.Select(y =>
        {
            int n = y.Shape[0], h = y.Shape[2], w = y.Shape[3];
            var v = Fn.Reshape(y, n, NumAnchors, c, h, w);
            return Fn.Reshape(Fn.Permute(v, 0, 3, 4, 1, 2), n, h * w * NumAnchors, c);
        }).ToArray();
        return parts.Length == 1 ? parts[0] : Fn.Concat(parts, 1);
    }
}
