namespace Nanoq.Coco.Imaging;

/// <summary>
/// Output sizes of the two resize policies, separate from the pixels so they can be tested and reasoned about.
/// </summary>
public static class ResizePlan
{
    /// <summary>
    /// Detectron's policy: scale so the shorter side is <paramref name="shorter"/>, unless that makes the longer side
    /// exceed <paramref name="maxLonger"/>, in which case the longer side is <paramref name="maxLonger"/>.
    /// Sizes are rounded to the nearest pixel (at least 1); the box map uses the exact per-axis ratios
    /// new/old so that the whole image maps onto the whole image.
    /// </summary>
    public static (int Width, int Height, BoxMap Map) ShorterSide(int width, int height, int shorter, int maxLonger)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(shorter);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLonger, shorter);
        double scale = (double)shorter / Math.Min(width, height);
        if (Math.Max(width, height) * scale > maxLonger) scale = (double)maxLonger / Math.Max(width, height);
        int w = Math.Max(1, (int)Math.Round(width * scale)), h = Math.Max(1, (int)Math.Round(height * scale));
        return (w, h, new BoxMap((double)w / width, 0, (double)h / height, 0));
    }

    /// <summary>
    /// Letterbox into a fixed <paramref name="targetWidth"/>×<paramref name="targetHeight"/> canvas: scale by the
    /// largest factor that fits, keep the aspect ratio, centre the result (offsets rounded down), pad the rest.
    /// Returns the scaled content size, its offset in the canvas, and the box map (scale, then offset).
    /// </summary>
    public static (int Width, int Height, int OffsetX, int OffsetY, BoxMap Map) Letterbox(int width, int height, int targetWidth, int targetHeight)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(targetWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(targetHeight);
        double scale = Math.Min((double)targetWidth / width, (double)targetHeight / height);
        int w = Math.Clamp((int)Math.Round(width * scale), 1, targetWidth);
        int h = Math.Clamp((int)Math.Round(height * scale), 1, targetHeight);
        int ox = (targetWidth - w) / 2, oy = (targetHeight - h) / 2;
        return (w, h, ox, oy, new BoxMap((double)w / width, ox, (double)h / height, oy));
    }
}
