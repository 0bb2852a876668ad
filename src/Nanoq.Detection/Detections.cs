namespace Nanoq.Detection;

/// <summary>
/// A detector's output for one image, best first: <see cref="Boxes"/> flat [D·4] xyxy in input-image pixels,
/// <see cref="Scores"/> in (0, 1), <see cref="Labels"/> contiguous classes in [0, K).
/// </summary>
public sealed record Detections(float[] Boxes, float[] Scores, int[] Labels)
{
    public int Count => Scores.Length;
}
