using System.Text.Json;
using Nanoq.Autograd;
using Nanoq.Kernels.Integer;
using Nanoq.Quant;
using Nanoq.Quant.Convert;

namespace Nanoq.Detection;

/// <summary>The detector families by name, and the steps every detector shares (detection, integer conversion).</summary>
public static class Detectors
{
    public static readonly string[] Kinds = ["retinanet", "faster-rcnn"];

    /// <summary>A detector of <paramref name="kind"/> from its configuration JSON (<see cref="IDetector.ConfigJson"/>).</summary>
    public static IDetector Create(string kind, string configJson, ulong seed = 0) => Create(ParseConfig(kind, configJson), seed);

    /// <summary>The detector a configuration describes, its weights initialized from <paramref name="seed"/>.</summary>
    public static IDetector Create(IDetectorConfig config, ulong seed = 0) => config switch
    {
        RetinaNetConfig r => new RetinaNet(r, seed),
        FasterRcnnConfig f => new FasterRcnn(f, seed),
        _ => throw new ArgumentException($"unknown detector configuration {config.GetType().Name}."),
    };

    /// <summary>
    /// A configuration of <paramref name="kind"/> from JSON (fields missing from it take the family's defaults), validated;
    /// an <see cref="ArgumentException"/> names what is wrong.
    /// </summary>
    public static IDetectorConfig ParseConfig(string kind, string json)
    {
        IDetectorConfig? config;
        try
        {
            config = kind switch
            {
                "retinanet" => JsonSerializer.Deserialize<RetinaNetConfig>(json),
                "faster-rcnn" => JsonSerializer.Deserialize<FasterRcnnConfig>(json),
                _ => throw new ArgumentException($"unknown detector '{kind}' (known: {string.Join(", ", Kinds)})."),
            };
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"not a {kind} configuration: {e.Message}", e);
        }
        if (config is null) throw new ArgumentException("the configuration is null");
        config.Validate();
        return config;
    }

    /// <summary>A configuration as JSON (its own record type's fields).</summary>
    public static string ToJson(IDetectorConfig config) => JsonSerializer.Serialize(config, config.GetType());

    /// <summary>The CPU-sized configuration of a family (<see cref="RetinaNetConfig.Small"/>, <see cref="FasterRcnnConfig.Small"/>).</summary>
    public static IDetectorConfig Small(string kind, int numClasses) => kind switch
    {
        "retinanet" => RetinaNetConfig.Small(numClasses),
        "faster-rcnn" => FasterRcnnConfig.Small(numClasses),
        _ => throw new ArgumentException($"unknown detector '{kind}' (known: {string.Join(", ", Kinds)})."),
    };

    /// <summary>Inference without the graph: forward and postprocess.</summary>
    public static IReadOnlyList<Detections> Detect(this IDetector detector, Tensor images, IReadOnlyList<(int Height, int Width)> imageSizes)
    {
        using var _ = GradMode.NoGrad();
        using var tape = new Tape();
        return detector.Postprocess(detector.Forward(new Var(images), imageSizes), imageSizes);
    }

    /// <summary>
    /// Converts a quantized detector (quantizers installed, calibrated, usually fine-tuned) to its integer-only twin by
    /// tracing one evaluation-mode forward on <paramref name="sample"/> (any images of the input layout: [N, 3, H, W]).
    /// </summary>
    public static IntegerDetector Convert(IDetector detector, Tensor sample, RequantRounding rounding = RequantRounding.Double)
    {
        var meta = new Dictionary<string, string> { [IntegerDetector.KindKey] = detector.Kind, [IntegerDetector.ConfigKey] = detector.ConfigJson, ["producer"] = "Nanoq ProgramConverter" };
        var model = ProgramConverter.Convert(detector.Network, x => detector.Forward(x).Outputs, sample, rounding, meta);
        return new IntegerDetector(model, Create(detector.Kind, detector.ConfigJson));
    }
}
