namespace Nanoq.Detection;

/// <summary>
/// Everything that sizes a Faster R-CNN with FPN, so a CPU-sized detector and torchvision's
/// <c>fasterrcnn_resnet50_fpn</c> (ResNet-50, 800 px, FPN 256, 1024-wide box head) are the same code with different
/// numbers (DESIGN.md §6). Defaults are torchvision's; <see cref="Small"/> is the CPU one, scaled as
/// <see cref="RetinaNetConfig.Small"/> (half-size anchors and canonical RoI scale for a 160-px input).
/// </summary>
public sealed record FasterRcnnConfig : IDetectorConfig
{
    [System.Text.Json.Serialization.JsonIgnore] public string Kind => "faster-rcnn";

    /// <summary>resnet18, resnet34, resnet50 or mobilenet_v2.</summary>
    public string Backbone { get; init; } = "resnet50";

    /// <summary>Channel multiplier of the backbone (ResNet first-stage width 64·w, MobileNetV2 α = w).</summary>
    public float BackboneWidth { get; init; } = 1f;

    /// <summary>Object classes K (labels [0, K)); the box predictor has K + 1 classes, 0 the background.</summary>
    public int NumClasses { get; init; } = 80;

    public int FpnChannels { get; init; } = 256;

    /// <summary>RPN anchor size on P2; level l (2..6) has size s·2^(l−2), ratios 0.5, 1, 2 (torchvision: 32..512).</summary>
    public int AnchorSize { get; init; } = 32;

    // RPN (torchvision's defaults).
    public int RpnPreNmsTopNTrain { get; init; } = 2000;
    public int RpnPreNmsTopNTest { get; init; } = 1000;
    public int RpnPostNmsTopNTrain { get; init; } = 2000;
    public int RpnPostNmsTopNTest { get; init; } = 1000;
    public float RpnNmsThreshold { get; init; } = 0.7f;
    public float RpnFgIou { get; init; } = 0.7f;
    public float RpnBgIou { get; init; } = 0.3f;
    public int RpnBatchSizePerImage { get; init; } = 256;
    public float RpnPositiveFraction { get; init; } = 0.5f;

    // RoI heads.
    /// <summary>MultiScaleRoIAlign output side (7) and sampling ratio (2).</summary>
    public int RoiPooledSize { get; init; } = 7;
    public int RoiSamplingRatio { get; init; } = 2;

    /// <summary>The LevelMapper's canonical box side s0 (224 at full scale: a 224² RoI pools from P4).</summary>
    public int RoiCanonicalScale { get; init; } = 224;

    /// <summary>TwoMLPHead's width (fc6, fc7).</summary>
    public int RepresentationSize { get; init; } = 1024;

    public int BoxBatchSizePerImage { get; init; } = 512;
    public float BoxPositiveFraction { get; init; } = 0.25f;

    // Inference.
    public float ScoreThreshold { get; init; } = 0.05f;
    public float NmsThreshold { get; init; } = 0.5f;
    public int MaxDetections { get; init; } = 100;

    /// <summary>Input size: the shorter image side (the longer is capped at <see cref="MaxInputSize"/>).</summary>
    public int InputSize { get; init; } = 800;

    /// <inheritdoc/>
    public int MaxInputSize { get; init; }

    /// <inheritdoc/>
    public bool TorchvisionResize { get; init; }

    /// <summary>
    /// Seeds the RPN and RoI samplers: step s of training draws from Rng.Derive(SamplerSeed, s), so a resumed run samples
    /// as an unbroken one (the step comes from the trainer, <see cref="IStepSeeded"/>). Part of the configuration, not of
    /// the weights, so a model rebuilt from its configuration samples the same.
    /// </summary>
    public ulong SamplerSeed { get; init; }

    /// <summary>
    /// A detector for two CPU cores: ResNet-18 at width 16, FPN 64, 16-px P2 anchors, 160-px input, a 256-wide box head,
    /// RPN top-n 600/300 before and 300/150 after NMS (train/test), 128 RoIs an image.
    /// </summary>
    public static FasterRcnnConfig Small(int numClasses) => new()
    {
        Backbone = "resnet18", BackboneWidth = 0.25f, NumClasses = numClasses, FpnChannels = 64, AnchorSize = 16, InputSize = 160,
        RepresentationSize = 256, RoiCanonicalScale = 112,
        RpnPreNmsTopNTrain = 600, RpnPreNmsTopNTest = 300, RpnPostNmsTopNTrain = 300, RpnPostNmsTopNTest = 150,
        BoxBatchSizePerImage = 128,
    };

    public IDetectorConfig WithNumClasses(int numClasses) => this with { NumClasses = numClasses };

    public IDetectorConfig WithShared(string backbone, float backboneWidth, int fpnChannels, int anchorSize, int inputSize) =>
        this with { Backbone = backbone, BackboneWidth = backboneWidth, FpnChannels = fpnChannels, AnchorSize = anchorSize, InputSize = inputSize };

    public string Describe() =>
        $"faster-rcnn: {Backbone} x{BackboneWidth}, {NumClasses} classes, FPN {FpnChannels}, box head {RepresentationSize}, anchors {AnchorSize}, input {InputSize}";

    public void Validate()
    {
        if (!Nn.Backbones.DetectionBackbones.IsKnown(Backbone))
            throw new ArgumentException($"Backbone '{Backbone}' is not one of {Nn.Backbones.DetectionBackbones.Known}.");
        if (BackboneWidth <= 0) throw new ArgumentException($"BackboneWidth must be positive, got {BackboneWidth}.");
        if (NumClasses < 1) throw new ArgumentException($"NumClasses must be at least 1, got {NumClasses}.");
        if (MaxInputSize != 0 && MaxInputSize < InputSize)
            throw new ArgumentException($"MaxInputSize {MaxInputSize} must be 0 (5/3 of InputSize) or at least InputSize {InputSize}.");
        if (FpnChannels < 1 || AnchorSize < 1 || InputSize < 32 || RepresentationSize < 1 || RoiPooledSize < 1 || RoiCanonicalScale < 1)
            throw new ArgumentException("FpnChannels, AnchorSize, RepresentationSize, RoiPooledSize, RoiCanonicalScale must be positive, InputSize ≥ 32.");
        if (RpnPreNmsTopNTrain < 1 || RpnPreNmsTopNTest < 1 || RpnPostNmsTopNTrain < 1 || RpnPostNmsTopNTest < 1)
            throw new ArgumentException("The RPN's pre- and post-NMS top-n must be positive.");
        if (RpnBatchSizePerImage < 1 || BoxBatchSizePerImage < 1) throw new ArgumentException("The samplers' batch sizes must be positive.");
        if (!(RpnPositiveFraction is >= 0f and <= 1f) || !(BoxPositiveFraction is >= 0f and <= 1f))
            throw new ArgumentException("The samplers' positive fractions must be in [0, 1].");
        if (!(RpnBgIou <= RpnFgIou)) throw new ArgumentException($"RpnBgIou {RpnBgIou} must not exceed RpnFgIou {RpnFgIou}.");
        if (!(ScoreThreshold >= 0f && ScoreThreshold < 1f)) throw new ArgumentException($"ScoreThreshold must be in [0, 1), got {ScoreThreshold}.");
    }
}
