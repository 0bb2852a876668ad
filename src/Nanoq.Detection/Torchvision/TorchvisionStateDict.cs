using System.Text.RegularExpressions;
using Nanoq.Nn;

namespace Nanoq.Detection;

/// <summary>
/// A detector's state dict by torchvision's names (<see cref="TorchvisionArchitectures"/>). Nanoq's ResNet and
/// MobileNetV2 already name their tensors as torchvision's (<c>conv1</c>, <c>layer1.0.bn1</c>, <c>layer2.0.downsample.0</c>,
/// <c>features.1.conv.0.0</c>, …); the rest maps one to one, with f the pyramid's first level (3 for RetinaNet, 2 for
/// Faster R-CNN):
/// <code>
///   backbone.features.X         backbone.body.X       (MobileNetV2: BackboneWithFPN's body is the features Sequential)
///   backbone.X                  backbone.body.X       (ResNet)
///   fpn.lateral{l}.             backbone.fpn.inner_blocks.{l − f}.0.
///   fpn.output{l}.              backbone.fpn.layer_blocks.{l − f}.0.
///   fpn.p6. / fpn.p7.           backbone.fpn.extra_blocks.p6. / .p7.
///   head.cls{i}. / head.box{i}. head.classification_head.conv.{i}.0. / head.regression_head.conv.{i}.0.
///   head.cls_logits.            head.classification_head.cls_logits.
///   head.bbox_pred.             head.regression_head.bbox_reg.
///   rpn_head.conv.              rpn.head.conv.0.0.
///   rpn_head.cls_logits. / .bbox_pred.      rpn.head.cls_logits. / .bbox_pred.
///   box_head.fc6. / .fc7.       roi_heads.box_head.fc6. / .fc7.
///   box_predictor.cls_score. / .bbox_pred.  roi_heads.box_predictor.cls_score. / .bbox_pred.
/// </code>
/// (torchvision 0.14 wraps the FPN's, heads' and RPN's convs in Conv2dNormActivation, hence the ".0".) PyTorch's
/// <c>num_batches_tracked</c> counters are ignored.
/// </summary>
public static class TorchvisionStateDict
{
    private static readonly (Regex Pattern, Func<Match, int, string> Name)[] Rules =
    [
        (new(@"^backbone\.features\.(.+)$"), (m, _) => $"backbone.body.{m.Groups[1].Value}"),
        (new(@"^backbone\.(.+)$"), (m, _) => $"backbone.body.{m.Groups[1].Value}"),
        (new(@"^fpn\.lateral(\d)\.(.+)$"), (m, f) => $"backbone.fpn.inner_blocks.{int.Parse(m.Groups[1].Value) - f}.0.{m.Groups[2].Value}"),
        (new(@"^fpn\.output(\d)\.(.+)$"), (m, f) => $"backbone.fpn.layer_blocks.{int.Parse(m.Groups[1].Value) - f}.0.{m.Groups[2].Value}"),
        (new(@"^fpn\.(p6|p7)\.(.+)$"), (m, _) => $"backbone.fpn.extra_blocks.{m.Groups[1].Value}.{m.Groups[2].Value}"),
        (new(@"^head\.cls(\d+)\.(.+)$"), (m, _) => $"head.classification_head.conv.{m.Groups[1].Value}.0.{m.Groups[2].Value}"),
        (new(@"^head\.box(\d+)\.(.+)$"), (m, _) => $"head.regression_head.conv.{m.Groups[1].Value}.0.{m.Groups[2].Value}"),
        (new(@"^head\.cls_logits\.(.+)$"), (m, _) => $"head.classification_head.cls_logits.{m.Groups[1].Value}"),
        (new(@"^head\.bbox_pred\.(.+)$"), (m, _) => $"head.regression_head.bbox_reg.{m.Groups[1].Value}"),
        (new(@"^rpn_head\.conv\.(.+)$"), (m, _) => $"rpn.head.conv.0.0.{m.Groups[1].Value}"),
        (new(@"^rpn_head\.(cls_logits|bbox_pred)\.(.+)$"), (m, _) => $"rpn.head.{m.Groups[1].Value}.{m.Groups[2].Value}"),
        (new(@"^(box_head|box_predictor)\.(.+)$"), (m, _) => $"roi_heads.{m.Groups[1].Value}.{m.Groups[2].Value}"),
    ];

    /// <summary>torchvision's name of the detector's tensor <paramref name="name"/>.</summary>
    public static string TorchvisionName(IDetector detector, string name)
    {
        int f = Pyramid(detector).FirstLevel;
        foreach (var (pattern, rename) in Rules)
            if (pattern.Match(name) is { Success: true } m) return rename(m, f);
        throw new ArgumentException($"{detector.Kind}: tensor '{name}' has no torchvision name.");
    }

    /// <summary>The detector's state dict by torchvision's names (what <c>model.load_state_dict</c> takes in PyTorch).</summary>
    public static Dictionary<string, Tensor> Export(IDetector detector)
    {
        CheckBackbone(detector);
        return detector.Network.StateDict().ToDictionary(kv => TorchvisionName(detector, kv.Key), kv => kv.Value);
    }

    /// <summary>
    /// Loads a state dict with torchvision's names into <paramref name="detector"/>, all or nothing. Every failure is one
    /// <see cref="StateDictException"/> line naming <paramref name="source"/> and the tensor: a missing tensor (with
    /// Nanoq's name and the shape expected), a shape that differs (both shapes), or tensors the architecture does not
    /// have (the count and the first few — a state dict of another architecture or class count is caught here).
    /// </summary>
    public static void Load(IDetector detector, IReadOnlyDictionary<string, Tensor> state, string source)
    {
        CheckBackbone(detector);
        var renamed = new Dictionary<string, Tensor>();
        var used = new HashSet<string>();
        foreach (var (name, t) in detector.Network.StateDict())
        {
            string tv = TorchvisionName(detector, name);
            if (!state.TryGetValue(tv, out var src))
                throw new StateDictException($"{source}: missing '{tv}' (shape {t.Shape}; Nanoq's '{name}') — is it a state dict of {Describe(detector)}?");
            if (src.Shape != t.Shape)
                throw new StateDictException($"{source}: '{tv}' has shape {src.Shape}; {Describe(detector)} expects {t.Shape}.");
            renamed[name] = src;
            used.Add(tv);
        }
        var extra = state.Keys.Where(k => !used.Contains(k) && !k.EndsWith("num_batches_tracked", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
        if (extra.Count > 0)
            throw new StateDictException($"{source}: {extra.Count} tensor(s) that {Describe(detector)} does not have, first {string.Join(", ", extra.Take(3).Select(e => $"'{e}'"))}.");
        detector.Network.LoadStateDict(renamed);
    }

    private static string Describe(IDetector d) => d.Config.Describe();

    private static FeaturePyramid Pyramid(IDetector detector) => detector switch
    {
        RetinaNet r => r.Fpn,
        FasterRcnn f => f.Fpn,
        _ => throw new ArgumentException($"{detector.Kind}: no torchvision counterpart."),
    };

    private static void CheckBackbone(IDetector detector)
    {
        if (detector.Config.Backbone is not ("resnet18" or "resnet34" or "resnet50" or "mobilenet_v2"))
            throw new ArgumentException($"backbone '{detector.Config.Backbone}': torchvision's detection state dicts are mapped for resnet18, resnet34, resnet50 and mobilenet_v2 only.");
    }
}
