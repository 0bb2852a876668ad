namespace Nanoq.Coco.Imaging;

/// <summary>
/// An 8-bit RGB image, row-major, interleaved (HWC): the pixel at (x, y) is
/// <c>Pixels[(y·Width + x)·3 + c]</c>. The working form between decoding and normalization.
/// </summary>
public sealed class RgbImage
{
    public int Width { get; }
    public int Height { get; }
    public byte[] Pixels { get; }

    public RgbImage(int width, int height, byte[]? pixels = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        long n = (long)width * height * 3;
        if (n > Array.MaxLength) throw new ArgumentException($"image {width}x{height} is too large");
        Pixels = pixels ?? new byte[n];
        if (Pixels.Length != n)
            throw new ArgumentException($"expected {n} bytes for {width}x{height} RGB, got {Pixels.Length}", nameof(pixels));
        Width = width;
        Height = height;
    }

    public void Fill(byte r, byte g, byte b)
    {
        for (int i = 0; i < Pixels.Length; i += 3) { Pixels[i] = r; Pixels[i + 1] = g; Pixels[i + 2] = b; }
    }
}
