namespace Nanoq.Detection;

/// <summary>
/// One training or calibration batch as a detector sees it: normalized images [N, 3, H, W] (padded) and each image's
/// ground truth in the same pixels. <paramref name="release"/> hands the images' pooled buffer back when the step is done.
/// </summary>
public sealed class DetectionBatch(Tensor images, IReadOnlyList<DetectionTarget> targets, Action? release = null) : IDisposable
{
    public Tensor Images { get; } = images;
    public IReadOnlyList<DetectionTarget> Targets { get; } = targets.Count == images.Shape[0]
        ? targets : throw new ArgumentException($"DetectionBatch: {targets.Count} targets for {images.Shape[0]} images.");

    public void Dispose() => release?.Invoke();
}
