namespace Nanoq.Detection;

/// <summary>
/// Everything that sizes a RetinaNet, so a CPU-sized detector and the paper's (ResNet-50, 800 px, FPN 256) are the
/// same code with different numbers (DESIGN.md §6). Defaults are Lin et al.'s; <see cref="Small"/> is the CPU one.
/// </summary>
public sealed record RetinaNetConfig : IDetectorConfig
{
    [System.Text.Json.Serialization.JsonIgnore] public string Kind => "retinanet";

    /// <summary>resnet18, resnet34, resnet50 or mobilenet_v2.</summary>
    public string Backbone { get; init; } = "resnet50";

    /// <summary>Channel multiplier of the backbone (ResNet first-stage width 64·w, MobileNetV2 α = w).</summary>
    public float BackboneWidth { get; init; } = 1f;

    public int NumClasses { get; init; } = 80;
    public int FpnChannels { get; init; } = 256;

    /// <summary>
    /// P6 from P5 rather than C5: torchvision's <c>retinanet_resnet50_fpn</c> (v1, <c>LastLevelP6P7(256, 256)</c>); the paper
    /// (and torchvision's v2) take C5.
    /// </summary>
    public bool P6FromP5 { get; init; }

    /// <summary>conv + ReLU layers in each head subnet before the predictor (4 in the paper).</summary>
    public int HeadConvs { get; init; } = 4;

    /// <summary>Anchor size on P3; level l (3..7) has size s·2^(l−3) times scales 2^0, 2^(1/3), 2^(2/3).</summary>
    public int AnchorSize { get; init; } = 32;

    public float PriorProbability { get; init; } = 0.01f;
    public float FgIou { get; init; } = 0.5f;
    public float BgIou { get; init; } = 0.4f;
    public float FocalAlpha { get; init; } = 0.25f;
    public float FocalGamma { get; init; } = 2f;
    public float ScoreThreshold { get; init; } = 0.05f;
    public int TopKPerLevel { get; init; } = 1000;
    public float NmsThreshold { get; init; } = 0.5f;
    public int MaxDetections { get; init; } = 100;

    /// <summary>
    /// Detections whose clipped width or height is below this many pixels are dropped before NMS (1e-3: COCO's results
    /// reader rejects empty boxes); torchvision's RetinaNet drops none (0).
    /// </summary>
    public float MinBoxSize { get; init; } = 1e-3f;

    /// <summary>Input size: the shorter image side (the longer is capped at <see cref="MaxInputSize"/>).</summary>
    public int InputSize { get; init; } = 800;

    /// <inheritdoc/>
    public int MaxInputSize { get; init; }

    /// <inheritdoc/>
    public bool TorchvisionResize { get; init; }

    /// <summary>A detector for two CPU cores: ResNet-18 at width 16, FPN 64, two head convs, 16-px anchors, 160-px input.</summary>
    public static RetinaNetConfig Small(int numClasses) => new()
    {
        Backbone = "resnet18", BackboneWidth = 0.25f, NumClasses = numClasses, FpnChannels = 64, HeadConvs = 2,
        AnchorSize = 16, InputSize = 160,
    };

    public IDetectorConfig WithNumClasses(int numClasses) => this with { NumClasses = numClasses };

    public IDetectorConfig WithShared(string backbone, float backboneWidth, int fpnChannels, int anchorSize, int inputSize) =>
        this with { Backbone = backbone, BackboneWidth = backboneWidth, FpnChannels = fpnChannels, AnchorSize = anchorSize, InputSize = inputSize };

    public string Describe() =>
        $"retinanet: {Backbone} x{BackboneWidth}, {NumClasses} classes, FPN {FpnChannels}, {HeadConvs} head convs, anchors {AnchorSize}, input {InputSize}";

    public void Validate()
    {
        if (!Nn.Backbones.DetectionBackbones.IsKnown(Backbone))
            throw new ArgumentException($"Backbone '{Backbone}' is not one of {Nn.Backbones.DetectionBackbones.Known}.");
        if (BackboneWidth <= 0) throw new ArgumentException($"BackboneWidth must be positive, got {BackboneWidth}.");
        if (NumClasses < 1) throw new ArgumentException($"NumClasses must be at least 1, got {NumClasses}.");
        if (MaxInputSize != 0 && MaxInputSize < InputSize)
            throw new ArgumentException($"MaxInputSize {MaxInputSize} must be 0 (5/3 of InputSize) or at least InputSize {InputSize}.");
        if (FpnChannels < 1 || HeadConvs < 0 || AnchorSize < 1 || InputSize < 32)
            throw new ArgumentException("FpnChannels, AnchorSize must be positive, HeadConvs ≥ 0, InputSize ≥ 32.");
        if (!(ScoreThreshold >= 0f && ScoreThreshold < 1f)) throw new ArgumentException($"ScoreThreshold must be in [0, 1), got {ScoreThreshold}.");
        if (!(MinBoxSize >= 0f)) throw new ArgumentException($"MinBoxSize must be ≥ 0, got {MinBoxSize}.");
        if (!(BgIou <= FgIou)) throw new ArgumentException($"BgIou {BgIou} must not exceed FgIou {FgIou}.");
    }
}
