namespace Nanoq.Coco.Imaging;

/// <summary>
/// RGB bytes to planar float (CHW): out[c, y, x] = (pixel[y, x, c] / 255 − Mean[c]) / Std[c].
/// The default is ImageNet's mean and std, which pretrained backbones expect. After normalization 0 is the mean
/// colour, which is why batches pad with 0.
/// </summary>
public sealed record Normalizer(float[] Mean, float[] Std)
{
    public static Normalizer ImageNet { get; } = new([0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]);

    /// <summary>No change beyond scaling to [0, 1].</summary>
    public static Normalizer UnitRange { get; } = new([0f, 0f, 0f], [1f, 1f, 1f]);

    public float[] ToChw(RgbImage image)
    {
        var dst = new float[3 * image.Width * image.Height];
        ToChw(image, dst);
        return dst;
    }

    /// <summary>Writes the planes into <paramref name="dst"/> of length 3·H·W.</summary>
    public void ToChw(RgbImage image, Span<float> dst)
    {
        if (Mean.Length != 3 || Std.Length != 3) throw new InvalidOperationException("mean and std need 3 values (R, G, B)");
        int plane = image.Width * image.Height;
        if (dst.Length != 3 * plane) throw new ArgumentException($"expected {3 * plane} floats, got {dst.Length}", nameof(dst));
        var px = image.Pixels;
        for (int c = 0; c < 3; c++)
        {
            // (v/255 − mean)/std = v·a + b, one multiply-add a pixel.
            float a = 1f / (255f * Std[c]), b = -Mean[c] / Std[c];
            var d = dst.Slice(c * plane, plane);
            for (int i = 0; i < plane; i++) d[i] = px[i * 3 + c] * a + b;
        }
    }

    /// <summary>
    /// <see cref="ToChw(RgbImage)"/> in torchvision's arithmetic: out = (v/255 − mean)/std with each step rounded
    /// to float32, as <c>to_tensor</c> (or <c>convert_image_dtype</c>) and <c>GeneralizedRCNNTransform.normalize</c>
    /// compute it, bit for bit; the multiply-add of <see cref="ToChw(RgbImage)"/> is up to two ulps away. There are
    /// only 256 byte values, so a table per channel costs 256 pairs of divisions, not two divisions a pixel.
    /// </summary>
    public float[] ToChwAsTorchvision(RgbImage image)
    {
        if (Mean.Length != 3 || Std.Length != 3) throw new InvalidOperationException("mean and std need 3 values (R, G, B)");
        int plane = image.Width * image.Height;
        var dst = new float[3 * plane];
        var px = image.Pixels;
        Span<float> table = stackalloc float[256];
        for (int c = 0; c < 3; c++)
        {
            for (int v = 0; v < 256; v++) table[v] = (v / 255f - Mean[c]) / Std[c];
            var d = dst.AsSpan(c * plane, plane);
            for (int i = 0; i < plane; i++) d[i] = table[px[i * 3 + c]];
        }
        return dst;
    }

    /// <summary>The inverse, for looking at a batch: planar floats back to RGB bytes (rounded, clamped).</summary>
    public RgbImage ToRgb(ReadOnlySpan<float> chw, int width, int height)
    {
        var img = new RgbImage(width, height);
        int plane = width * height;
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < plane; i++)
                img.Pixels[i * 3 + c] = (byte)Math.Clamp((int)MathF.Round((chw[c * plane + i] * Std[c] + Mean[c]) * 255f), 0, 255);
        return img;
    }
}
