namespace Nanoq.Detection;

/// <summary>
/// The ground truth of one image: <see cref="Boxes"/> flat [G·4] as (x1, y1, x2, y2) in input-image pixels (the
/// box contract of <see cref="Boxes"/>), <see cref="Labels"/> contiguous classes in [0, K).
/// </summary>
public sealed record DetectionTarget(float[] Boxes, int[] Labels)
{
    public int Count => Labels.Length;
}
