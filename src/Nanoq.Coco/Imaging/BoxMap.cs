namespace Nanoq.Coco.Imaging;

/// <summary>
/// How image transforms move box coordinates: per axis x' = ScaleX·x + OffsetX, y' = ScaleY·y + OffsetY, in the
/// continuous pixel coordinates of <see cref="XyxyBox"/>. Resizing scales, letterboxing also offsets, a horizontal
/// flip is ScaleX = −1, OffsetX = W. Maps compose (<see cref="Then"/>) and invert (<see cref="Inverse"/>), so boxes
/// predicted on a transformed image go back to the original image with one call.
/// </summary>
public readonly record struct BoxMap(double ScaleX, double OffsetX, double ScaleY, double OffsetY)
{
    public static BoxMap Identity { get; } = new(1, 0, 1, 0);

    /// <summary>This map followed by <paramref name="next"/>.</summary>
    public BoxMap Then(BoxMap next) =>
        new(next.ScaleX * ScaleX, next.ScaleX * OffsetX + next.OffsetX, next.ScaleY * ScaleY, next.ScaleY * OffsetY + next.OffsetY);

    public BoxMap Inverse() => new(1 / ScaleX, -OffsetX / ScaleX, 1 / ScaleY, -OffsetY / ScaleY);

    /// <summary>The image of a box; corners are re-ordered when an axis is mirrored.</summary>
    public XyxyBox Map(XyxyBox b)
    {
        double x1 = ScaleX * b.X1 + OffsetX, x2 = ScaleX * b.X2 + OffsetX;
        double y1 = ScaleY * b.Y1 + OffsetY, y2 = ScaleY * b.Y2 + OffsetY;
        return new XyxyBox((float)Math.Min(x1, x2), (float)Math.Min(y1, y2), (float)Math.Max(x1, x2), (float)Math.Max(y1, y2));
    }

    public XyxyBox[] Map(IReadOnlyList<XyxyBox> boxes)
    {
        var r = new XyxyBox[boxes.Count];
        for (int i = 0; i < r.Length; i++) r[i] = Map(boxes[i]);
        return r;
    }
}
