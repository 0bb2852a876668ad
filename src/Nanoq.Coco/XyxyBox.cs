namespace Nanoq.Coco;

/// <summary>
/// The project's box contract (DESIGN.md §6): float corners (X1, Y1) top-left and (X2, Y2) bottom-right,
/// in pixels of whatever image the box belongs to, continuous coordinates (pixel column i covers [i, i+1)),
/// so a box around a whole W×H image is (0, 0, W, H).
/// </summary>
public readonly record struct XyxyBox(float X1, float Y1, float X2, float Y2)
{
    public float Width => X2 - X1;
    public float Height => Y2 - Y1;
    public float Area => Width * Height;

    public override string ToString() => $"({X1}, {Y1}, {X2}, {Y2})";
}
