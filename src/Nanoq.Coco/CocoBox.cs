namespace Nanoq.Coco;

/// <summary>
/// A box as COCO's json stores it: top-left corner (X, Y) and size (Width, Height) in pixels of the
/// original image, in double precision because pycocotools computes IoU in double.
/// This form exists only at the json edge; everything else uses <see cref="XyxyBox"/> (DESIGN.md §6).
/// </summary>
public readonly record struct CocoBox(double X, double Y, double Width, double Height)
{
    /// <summary>Width × height, the area pycocotools' loadRes gives a result box.</summary>
    public double Area => Width * Height;

    /// <summary>The same box as float corners (x1, y1, x2, y2).</summary>
    public XyxyBox ToXyxy() => new((float)X, (float)Y, (float)(X + Width), (float)(Y + Height));

    /// <summary>
    /// COCO form of float corners. Each value is the shortest decimal that rounds back to the same float,
    /// so written json reads <c>12.3</c> rather than <c>12.300000190734863</c> and still round-trips exactly.
    /// </summary>
    public static CocoBox FromXyxy(XyxyBox b) =>
        new(ShortestDouble(b.X1), ShortestDouble(b.Y1), ShortestDouble(b.X2 - b.X1), ShortestDouble(b.Y2 - b.Y1));

    /// <summary>
    /// A detection's box: finite, with sizes ≥ 0. pycocotools' loadRes takes empty boxes (area 0: they match nothing and
    /// count as false positives), and torchvision's RetinaNet returns them (a box clipped to the image border), so a
    /// result may have one; a ground-truth box may not (<see cref="IsValid"/>).
    /// </summary>
    public bool IsValidResult =>
        double.IsFinite(X) && double.IsFinite(Y) && double.IsFinite(Width) && double.IsFinite(Height)
        && Width >= 0 && Height >= 0;

    /// <summary>True when both sizes are finite and strictly positive and the corner is finite.</summary>
    public bool IsValid =>
        double.IsFinite(X) && double.IsFinite(Y) && double.IsFinite(Width) && double.IsFinite(Height)
        && Width > 0 && Height > 0;

    internal static double ShortestDouble(float f) =>
        double.Parse(f.ToString("R", System.Globalization.CultureInfo.InvariantCulture), System.Globalization.CultureInfo.InvariantCulture);
}
