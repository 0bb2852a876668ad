namespace Nanoq.Coco.Data;

/// <summary>
/// A batch of images as one float buffer in NCHW with explicit dims, plus each image's sample (targets, its own
/// size before padding, its box map). Images sit at the top-left of their slot; the rest is 0 (the mean colour
/// after normalization), so boxes need no shift.
/// </summary>
public sealed record ImageBatch(float[] Data, int N, int C, int H, int W, IReadOnlyList<DetectionSample> Samples)
{
    public ReadOnlySpan<float> ImageSlot(int n) => Data.AsSpan(n * C * H * W, C * H * W);
}
