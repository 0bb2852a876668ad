namespace Nanoq.Coco.Imaging;

/// <summary>
/// Output sizes of the resize policies, separate from the pixels so they can be tested and reasoned about.
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
    /// torchvision 0.14's <c>GeneralizedRCNNTransform</c> size rule, reproduced in its own arithmetic so that the
    /// sizes agree to the pixel:
    /// <c>scale = min(minSize · (1/min(h, w)), maxSize · (1/max(h, w)))</c> in float32 (a Python number divided by a
    /// float32 tensor is <c>tensor.reciprocal() * number</c>: two roundings), then <c>F.interpolate</c> with
    /// <c>recompute_scale_factor=True</c> takes <c>floor(size · scale)</c> in double precision per axis.
    /// Because the float32 scale can sit just below the exact ratio, the result is often one pixel short of the
    /// target (41 × 64/41 gives 63, and torchvision's default 800 gives 799 for many sizes); that is what
    /// torchvision's models see. No size is clamped to 1: an extreme aspect ratio can floor to 0, which
    /// <c>interpolate</c> rejects, and so does this. The box map uses the per-axis ratios new/old, as <c>resize_boxes</c>.
    /// </summary>
    public static (int Width, int Height, BoxMap Map) Torchvision(int width, int height, int minSize, int maxSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(minSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxSize);
        float byMin = 1f / Math.Min(width, height) * minSize;
        float byMax = 1f / Math.Max(width, height) * maxSize;
        double scale = Math.Min(byMin, byMax); // Tensor.item(): the float32 value as a Python float
        int w = (int)Math.Floor(width * scale), h = (int)Math.Floor(height * scale);
        if (w == 0 || h == 0)
            throw new ArgumentException($"{width}x{height} resizes to {w}x{h} under min size {minSize}, max size {maxSize}");
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
