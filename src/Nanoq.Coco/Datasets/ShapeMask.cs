namespace Nanoq.Coco.Datasets;

/// <summary>
/// Binary coverage masks of the shapes, sampled at pixel centres over their w×h patch: a pixel belongs to the shape
/// when its centre is inside. Drawn by hand (ImageSharp.Drawing is not among the project's packages).
/// </summary>
internal static class ShapeMask
{
    /// <summary>The w×h mask of a shape filling its patch; <paramref name="variant"/> in [0, 1) picks orientation or proportions.</summary>
    public static float[] Make(ShapeKind kind, int w, int h, double variant)
    {
        var mask = new float[w * h];
        double rx = w / 2.0, ry = h / 2.0;
        // Triangles: apex somewhere along the top (or bottom, for variant ≥ 0.5) edge, base along the opposite edge.
        bool apexUp = variant < 0.5;
        double apex = (variant < 0.5 ? variant : variant - 0.5) * 2 * w;
        // Rings: the hole is 45–65 % of the outer size.
        double inner = 0.45 + 0.2 * variant;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                double px = x + 0.5, py = y + 0.5;
                double dx = (px - rx) / rx, dy = (py - ry) / ry;
                bool inside = kind switch
                {
                    ShapeKind.Rectangle => true,
                    ShapeKind.Ellipse => dx * dx + dy * dy <= 1,
                    ShapeKind.Diamond => Math.Abs(dx) + Math.Abs(dy) <= 1,
                    ShapeKind.Ring => dx * dx + dy * dy <= 1 && dx * dx + dy * dy >= inner * inner,
                    ShapeKind.Triangle => InTriangle(px, apexUp ? py : h - py, apex, w, h),
                    _ => throw new ArgumentOutOfRangeException(nameof(kind)),
                };
                if (inside) mask[y * w + x] = 1;
            }
        return mask;
    }

    /// <summary>
    /// Inside the triangle (apex, 0), (0, h), (w, h), widened by half a pixel on each side so that the rows near the
    /// apex, narrower than a pixel, still get one: every row of the patch is touched and the box is the full patch.
    /// </summary>
    private static bool InTriangle(double px, double py, double apex, double w, double h)
    {
        double t = py / h;
        double left = apex * (1 - t), right = apex + (w - apex) * t;
        return px >= left - 0.5 && px <= right + 0.5;
    }
}
