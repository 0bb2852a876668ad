namespace Nanoq.Coco.Evaluation;

/// <summary>
/// IoU of COCO boxes as pycocotools' maskApi.c bbIou computes it, in double and in the same operation order so
/// results agree to the last bit. For a crowd ground truth the union is the detection's own area: a detection
/// inside a crowd region matches it fully however large the region is.
/// </summary>
internal static class BoxIou
{
    /// <summary>IoU of detection (dx, dy, dw, dh) and ground truth (gx, gy, gw, gh); 0 when they do not overlap.</summary>
    public static double Compute(in CocoBox d, in CocoBox g, bool gtIsCrowd)
    {
        double w = Math.Min(d.Width + d.X, g.Width + g.X) - Math.Max(d.X, g.X);
        if (w <= 0) return 0;
        double h = Math.Min(d.Height + d.Y, g.Height + g.Y) - Math.Max(d.Y, g.Y);
        if (h <= 0) return 0;
        double da = d.Width * d.Height, ga = g.Width * g.Height;
        double inter = w * h;
        double union = gtIsCrowd ? da : da + ga - inter;
        return inter / union;
    }
}
