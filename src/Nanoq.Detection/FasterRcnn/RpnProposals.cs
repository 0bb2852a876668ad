namespace Nanoq.Detection;

/// <summary>One image's RPN proposals, best first: <see cref="Boxes"/> flat [P·4] (x1, y1, x2, y2) in input-image pixels,
/// <see cref="Scores"/> the sigmoid of their objectness.</summary>
public sealed record RpnProposals(float[] Boxes, float[] Scores)
{
    public int Count => Scores.Length;
}
