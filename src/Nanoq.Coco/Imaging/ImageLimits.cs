namespace Nanoq.Coco.Imaging;

/// <summary>
/// Limits checked before an image is decoded, so a hostile or broken file cannot make the loader allocate
/// gigabytes: the file size, and the pixel count read from the header.
/// Defaults: 64 MiB and 64 megapixels (a 8192×8192 image), far above COCO's 640×480.
/// </summary>
public sealed record ImageLimits(long MaxFileBytes = 64L << 20, long MaxPixels = 64L << 20)
{
    public static ImageLimits Default { get; } = new();
}
