namespace Nanoq.Coco.Imaging;

/// <summary>
/// Geometric transforms of an image; each returns the new image and the <see cref="BoxMap"/> that carries boxes
/// from the input image to the output image.
/// </summary>
public static class ImageTransforms
{
    /// <summary>Shorter side to <paramref name="shorter"/>, longer side at most <paramref name="maxLonger"/> (see <see cref="ResizePlan.ShorterSide"/>).</summary>
    public static (RgbImage Image, BoxMap Map) ResizeShorterSide(RgbImage image, int shorter, int maxLonger)
    {
        var (w, h, map) = ResizePlan.ShorterSide(image.Width, image.Height, shorter, maxLonger);
        return (w == image.Width && h == image.Height ? image : Resampler.Bilinear(image, w, h), map);
    }

    /// <summary>Fit into a fixed canvas keeping the aspect ratio, centred, padded with <paramref name="pad"/> (see <see cref="ResizePlan.Letterbox"/>).</summary>
    public static (RgbImage Image, BoxMap Map) Letterbox(RgbImage image, int width, int height, (byte R, byte G, byte B) pad)
    {
        var (w, h, ox, oy, map) = ResizePlan.Letterbox(image.Width, image.Height, width, height);
        var canvas = new RgbImage(width, height);
        canvas.Fill(pad.R, pad.G, pad.B);
        Resampler.Bilinear(image, canvas, ox, oy, w, h);
        return (canvas, map);
    }

    /// <summary>Mirror left-right: column x goes to W−1−x, a box edge at x to W−x.</summary>
    public static (RgbImage Image, BoxMap Map) FlipHorizontal(RgbImage image)
    {
        var dst = new RgbImage(image.Width, image.Height);
        int stride = image.Width * 3;
        for (int y = 0; y < image.Height; y++)
        {
            int row = y * stride;
            for (int x = 0; x < image.Width; x++)
            {
                int s = row + x * 3, d = row + (image.Width - 1 - x) * 3;
                dst.Pixels[d] = image.Pixels[s];
                dst.Pixels[d + 1] = image.Pixels[s + 1];
                dst.Pixels[d + 2] = image.Pixels[s + 2];
            }
        }
        return (dst, new BoxMap(-1, image.Width, 1, 0));
    }
}
