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
    public static IDetector Create(string kind, string configJson, ulong seed = 0)
    {
        switch (kind)
        {
            case "retinanet":
                RetinaNetConfig config;
                try
                {
                    config = JsonSerializer.Deserialize<RetinaNetConfig>(configJson) ?? throw new ArgumentException("the configuration is null");
                }
                catch (JsonException e)
                {
                    throw new ArgumentException($"not a RetinaNet configuration: {e.Message}", e);
                }
                return new RetinaNet(config, seed);
            case "faster-rcnn":
                FasterRcnnConfig frcnn;
                try
                {
                    frcnn = JsonSerializer.Deserialize<FasterRcnnConfig>(configJson) ?? throw new ArgumentException("the configuration is null");
                }
                catch (JsonException e)
                {
                    throw new ArgumentException($"not a Faster R-CNN configuration: {e.Message}", e);
                }
                return new FasterRcnn(frcnn, seed);
            default:
                throw new ArgumentException($"unknown detector '{kind}' (known: {string.Join(", ", Kinds)}).");
        }
    }

    /// <summary>Inference without the graph: forward and postprocess.</summary>
    public static IReadOnlyList<Detections> Detect(this IDetector detector, Tensor images, IReadOnlyList<(int Height, int Width)> imageSizes)
    {
        using var _ = GradMode.NoGrad();
        using var tape = new Tape();
        return detector.Postprocess(detector.Forward(new Var(images)), imageSizes);
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
