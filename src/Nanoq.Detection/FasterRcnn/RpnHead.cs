using Nanoq.Autograd;
using Nanoq.Nn;
using Nanoq.Nn.Layers;
using Nanoq.Nn.Taps;

namespace Nanoq.Detection;

/// <summary>
/// The RPN head, shared by every pyramid level: torchvision's <c>RPNHead</c> (0.14) — a 3×3 conv + ReLU, then 1×1 convs
/// to A objectness logits and 4A box deltas a location. Weights N(0, 0.01²), zero bias, as torchvision. Each conv is a
/// <see cref="ConvUnit"/> (names conv, cls_logits, bbox_pred), so quantization covers the head and its outputs.
/// <code>
///   level [N, C, H, W] → t = relu(conv(level)) → objectness [N, A, H, W], deltas [N, 4A, H, W]
/// </code>
/// </summary>
public sealed class RpnHead : Module
{
    private readonly ConvUnit _conv, _cls, _box;

    public RpnHead(int channels, int numAnchors, Rng rng)
    {
        NumAnchors = numAnchors;
        _conv = Tap("conv", new ConvUnit(Child("conv", new Conv2d(channels, channels, 3, 1, 1, rng: rng)), null, ActivationKind.Relu));
        _cls = Tap("cls_logits", new ConvUnit(Child("cls_logits", new Conv2d(channels, numAnchors, 1, rng: rng)), null, ActivationKind.None));
        _box = Tap("bbox_pred", new ConvUnit(Child("bbox_pred", new Conv2d(channels, 4 * numAnchors, 1, rng: rng)), null, ActivationKind.None));
        foreach (var (_, m) in NamedModules())
            if (m is Conv2d c)
            {
                rng.FillNormal(c.Weight.Value.Span, 0f, 0.01f);
                c.Bias?.Value.Clear();
            }
    }

    public int NumAnchors { get; }

    public ConvUnit Conv => _conv;
    public ConvUnit ClsLogits => _cls;
    public ConvUnit BboxPred => _box;

    /// <summary>Pyramid levels → (objectness maps [N, A, H_l, W_l], delta maps [N, 4A, H_l, W_l]), one of each per level.</summary>
    public (Var[] Objectness, Var[] Deltas) Forward(IReadOnlyList<Var> levels)
    {
        var obj = new Var[levels.Count];
        var del = new Var[levels.Count];
        for (int l = 0; l < levels.Count; l++)
        {
            var t = _conv.Forward(levels[l]);
            obj[l] = _cls.Forward(t);
            del[l] = _box.Forward(t);
        }
        return (obj, del);
    }
}
