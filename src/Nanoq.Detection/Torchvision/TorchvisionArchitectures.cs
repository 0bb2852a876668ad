namespace Nanoq.Detection;

/// <summary>
/// torchvision's detection builders as Nanoq configurations, one to one (torchvision 0.14, weights=None): the same
/// modules, the same tensors by <see cref="TorchvisionStateDict"/>'s names, the same numbers. A model trained with one
/// of these in PyTorch loads into the detector built from the configuration and computes what it computed there.
/// <list type="bullet">
/// <item><c>retinanet_resnet{18,34,50}_fpn</c>: <c>retinanet_resnet50_fpn</c> (v1) and its ResNet-18/34 twins as
/// <c>_resnet_fpn_extractor(resnet, returned_layers=[2, 3, 4], extra_blocks=LastLevelP6P7(256, 256))</c> builds them: FPN 256
/// on C3–C5, P6/P7 from P5, four-conv heads (no norm), anchors 32–512 × (2^0, 2^⅓, 2^⅔) × (0.5, 1, 2), score 0.05, top-1000
/// a level, NMS 0.5, 300 detections, no tiny-box removal.</item>
/// <item><c>fasterrcnn_resnet{18,34,50}_fpn</c>: FPN 256 on C2–C5 and max-pooled P6, RPN anchors 32–512 × (0.5, 1, 2),
/// MultiScaleRoIAlign 7×7, TwoMLPHead 1024, score 0.05, NMS 0.5, 100 detections — <see cref="FasterRcnnConfig"/>'s
/// defaults, which are torchvision's.</item>
/// </list>
/// Both with <c>GeneralizedRCNNTransform(min_size, max_size)</c> (<see cref="IDetectorConfig.TorchvisionResize"/>, ImageNet
/// mean and std). torchvision's <c>num_classes</c> counts Faster R-CNN's background class and RetinaNet's does not, so
/// <c>fasterrcnn_*(num_classes=N)</c> is a Nanoq Faster R-CNN of N − 1 object classes (label l ≥ 1 there is class l − 1
/// here) and <c>retinanet_*(num_classes=N)</c> one of N. Batch norm: torchvision freezes it (FrozenBatchNorm2d) when the
/// backbone is pretrained; in evaluation both compute (x − mean)/√(var + 1e-5)·γ + β, which is Nanoq's BatchNorm2d in
/// evaluation mode, and FQN folds it into the convs anyway.
/// <para>
/// <c>retinanet_mobilenet_v2_fpn</c> and <c>fasterrcnn_mobilenet_v2_fpn</c> are the same detectors on MobileNetV2, built the
/// same way — torchvision has no builder for them (its <c>_mobilenet_extractor</c> returns the first block of the last
/// two stride-32 stages, a different topology), so these are the models a user builds with torchvision's classes as
/// <code>
///   body = torchvision.models.mobilenet_v2(weights=...).features              # C2..C5 end at features 3, 6, 13, 18
///   backbone = BackboneWithFPN(body, {"6": "0", "13": "1", "18": "2"}, [32, 96, 1280], 256, LastLevelP6P7(256, 256))   # RetinaNet
///   backbone = BackboneWithFPN(body, {"3": "0", "6": "1", "13": "2", "18": "3"}, [24, 32, 96, 1280], 256)            # Faster R-CNN
///   model = RetinaNet(backbone, num_classes) / FasterRCNN(backbone, num_classes)
/// </code>
/// </para>
/// </summary>
public static class TorchvisionArchitectures
{
    private static readonly string[] Backbones = ["resnet18", "resnet34", "resnet50", "mobilenet_v2"];

    /// <summary>The architecture names <see cref="Config"/> knows.</summary>
    public static IReadOnlyList<string> Names { get; } =
        [.. Backbones.Select(b => $"retinanet_{b}_fpn"), .. Backbones.Select(b => $"fasterrcnn_{b}_fpn")];

    /// <summary>
    /// The Nanoq configuration of torchvision's <paramref name="arch"/> with <paramref name="numClasses"/> counted as
    /// torchvision counts them, resizing images to <paramref name="minSize"/> (shorter side) and at most
    /// <paramref name="maxSize"/> (longer side). Throws an <see cref="ArgumentException"/> naming the known architectures.
    /// </summary>
    public static IDetectorConfig Config(string arch, int numClasses, int minSize = 800, int maxSize = 1333)
    {
        if (!Names.Contains(arch))
            throw new ArgumentException($"unknown torchvision architecture '{arch}' (known: {string.Join(", ", Names)}).");
        if (minSize < 32 || maxSize < minSize) throw new ArgumentException($"min size {minSize} must be at least 32 and max size {maxSize} at least the min size.");
        string family = arch[..arch.IndexOf('_')], backbone = arch[(family.Length + 1)..^"_fpn".Length];
        if (family == "retinanet")
        {
            if (numClasses < 1) throw new ArgumentException($"{arch} needs at least 1 class, got {numClasses}.");
            return new RetinaNetConfig
            {
                Backbone = backbone, NumClasses = numClasses, FpnChannels = 256, HeadConvs = 4, AnchorSize = 32, P6FromP5 = true,
                MaxDetections = 300, MinBoxSize = 0f, InputSize = minSize, MaxInputSize = maxSize, TorchvisionResize = true,
            };
        }
        if (numClasses < 2) throw new ArgumentException($"{arch} counts the background class: num_classes must be at least 2, got {numClasses}.");
        return new FasterRcnnConfig
        {
            Backbone = backbone, NumClasses = numClasses - 1, InputSize = minSize, MaxInputSize = maxSize, TorchvisionResize = true,
        };
    }

    /// <summary>torchvision's label of Nanoq class <paramref name="label"/>: the same for RetinaNet, one more for Faster R-CNN (0 is its background).</summary>
    public static int TorchvisionLabel(string kind, int label) => kind == "faster-rcnn" ? label + 1 : label;
}
