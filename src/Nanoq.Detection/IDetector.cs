using Nanoq.Autograd;
using Nanoq.Nn;

namespace Nanoq.Detection;

/// <summary>
/// What every detector is to the rest of Nanoq (DESIGN.md §4): a network from normalized images to raw outputs, a loss
/// against targets, and a postprocess from raw outputs to boxes. Training, calibration, fine-tuning, conversion to the
/// integer program, evaluation and the CLI are written against this once; a new detector plugs in without touching
/// them.
/// <para>
/// The split matters for quantization: everything in <see cref="Forward"/> is network — routed through taps, quantized,
/// converted to integer ops — and its <see cref="DetectorOutput.Outputs"/> are exactly the tensors the integer program
/// returns; everything in <see cref="Postprocess"/> (sigmoid, decoding, NMS) is float and runs the same on the
/// dequantized integer outputs as on the float ones.
/// </para>
/// </summary>
public interface IDetector
{
    /// <summary>The module tree (parameters, buffers, taps, quantizers).</summary>
    Module Network { get; }

    /// <summary>The detector family, as model files name it ("retinanet").</summary>
    string Kind { get; }

    /// <summary>The configuration the detector was built from.</summary>
    IDetectorConfig Config { get; }

    /// <summary>The configuration, as JSON (with <see cref="Kind"/> enough to rebuild the detector: <see cref="Detectors.Create"/>).</summary>
    string ConfigJson { get; }

    /// <summary>The class count K (labels in [0, K)).</summary>
    int NumClasses { get; }

    /// <summary>
    /// images [N, 3, H, W], normalized → raw outputs. <paramref name="imageSizes"/>: each image's own (unpadded) size in
    /// the padded batch, for a network that needs it (Faster R-CNN clips its proposals to it, as torchvision does);
    /// null means the padded size for every image.
    /// </summary>
    DetectorOutput Forward(Var images, IReadOnlyList<(int Height, int Width)>? imageSizes = null);

    /// <summary>The training losses of a batch, each already normalized.</summary>
    DetectorLosses Loss(DetectorOutput output, IReadOnlyList<DetectionTarget> targets);

    /// <summary>Raw outputs → detections per image, in the images' own (unpadded) pixels.</summary>
    IReadOnlyList<Detections> Postprocess(DetectorOutput output, IReadOnlyList<(int Height, int Width)> imageSizes);
}
