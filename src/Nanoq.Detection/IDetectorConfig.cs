using System.Text.Json.Serialization;

namespace Nanoq.Detection;

/// <summary>
/// What every detector configuration shares, so that the pipeline (data transform, run folders, conversion) reads one
/// type: the family (<see cref="Kind"/>), the backbone, the class count and the input size. Each family's record adds its
/// own numbers (<see cref="RetinaNetConfig"/>, <see cref="FasterRcnnConfig"/>); <see cref="Detectors.Create(IDetectorConfig, ulong)"/>
/// builds the detector from it, and <see cref="Detectors.ParseConfig"/> reads one back from JSON.
/// </summary>
public interface IDetectorConfig
{
    /// <summary>The detector family ("retinanet", "faster-rcnn"); not part of the JSON, which the family types.</summary>
    [JsonIgnore] string Kind { get; }

    /// <summary>resnet18, resnet34, resnet50 or mobilenet_v2.</summary>
    string Backbone { get; }

    /// <summary>Channel multiplier of the backbone.</summary>
    float BackboneWidth { get; }

    /// <summary>Object classes K (labels [0, K)).</summary>
    int NumClasses { get; }

    /// <summary>Channels of every pyramid level.</summary>
    int FpnChannels { get; }

    /// <summary>Anchor size on the finest pyramid level (P3 for RetinaNet, P2 for Faster R-CNN), in pixels.</summary>
    int AnchorSize { get; }

    /// <summary>Input size: the shorter image side (the longer is capped at <see cref="MaxInputSize"/>).</summary>
    int InputSize { get; }

    /// <summary>The cap on the longer image side; 0 means Nanoq's 5/3 of <see cref="InputSize"/> (torchvision: max_size, 1333).</summary>
    int MaxInputSize { get; }

    /// <summary>
    /// The input transform is torchvision's <c>GeneralizedRCNNTransform</c> exactly (normalize, then resize in float with
    /// its size rule: what a model imported from torchvision was trained on); false: Nanoq's loader (resize the 8-bit
    /// image, then normalize), which is what Nanoq's own models train with.
    /// </summary>
    bool TorchvisionResize { get; }

    /// <summary>The same configuration for <paramref name="numClasses"/> classes.</summary>
    IDetectorConfig WithNumClasses(int numClasses);

    /// <summary>The same configuration with the fields every family shares replaced (the family's own fields kept).</summary>
    IDetectorConfig WithShared(string backbone, float backboneWidth, int fpnChannels, int anchorSize, int inputSize);

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first inconsistent field.</summary>
    void Validate();

    /// <summary>One line for logs and refusals ("faster-rcnn: resnet18 x0.25, 3 classes, FPN 64, …").</summary>
    string Describe();
}
