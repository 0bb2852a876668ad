using Nanoq.Coco.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;

namespace Nanoq.Coco.Tests.Imaging;

/// <summary>Decoding PNG/JPEG/BMP, and every way an image file can be bad.</summary>
public sealed class ImageCodecTests : IDisposable
{
    private readonly string _dir = TestData.TempDir("codec");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    internal static RgbImage Gradient(int w, int h)
    {
        var img = new RgbImage(w, h);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                int i = (y * w + x) * 3;
                img.Pixels[i] = (byte)(x * 255 / Math.Max(1, w - 1));
                img.Pixels[i + 1] = (byte)(y * 255 / Math.Max(1, h - 1));
                img.Pixels[i + 2] = 77;
            }
        return img;
    }

    private string WriteFile(string name, byte[] bytes)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static byte[] Encode(RgbImage rgb, SixLabors.ImageSharp.Formats.IImageEncoder encoder)
    {
        using var image = Image.LoadPixelData<Rgb24>(rgb.Pixels, rgb.Width, rgb.Height);
        using var ms = new MemoryStream();
        image.Save(ms, encoder);
        return ms.ToArray();
    }

    private CocoFormatException LoadError(string path, ImageLimits? limits = null)
    {
        var ex = Assert.Throws<CocoFormatException>(() => ImageCodec.Load(path, limits));
        Assert.StartsWith(path + ": ", ex.Message);
        return ex;
    }

    [Fact]
    public void PngRoundTripsExactly()
    {
        var img = Gradient(33, 17);
        var back = ImageCodec.Load(WriteFile("a.png", ImageCodec.EncodePng(img)));
        Assert.Equal(img.Pixels, back.Pixels);
        Assert.Equal((33, 17), (back.Width, back.Height));
    }

    [Fact]
    public void BmpRoundTripsExactly()
    {
        var img = Gradient(13, 9);
        var back = ImageCodec.Load(WriteFile("a.bmp", Encode(img, new BmpEncoder { BitsPerPixel = BmpBitsPerPixel.Pixel24 })));
        Assert.Equal(img.Pixels, back.Pixels);
    }

    [Fact]
    public void JpegDecodesClose()
    {
        var img = Gradient(64, 48);
        var back = ImageCodec.Load(WriteFile("a.jpg", Encode(img, new JpegEncoder { Quality = 95 })));
        Assert.Equal((64, 48), (back.Width, back.Height));
        double meanError = img.Pixels.Zip(back.Pixels, (a, b) => Math.Abs(a - b)).Average();
        Assert.True(meanError < 4, $"mean abs error {meanError}");
    }

    [Fact]
    public void MissingFile() =>
        Assert.Equal("image file not found", LoadError(Path.Combine(_dir, "missing.png")).Problem);

    [Fact]
    public void EmptyFile() =>
        Assert.Equal("image file is empty", LoadError(WriteFile("empty.png", [])).Problem);

    [Fact]
    public void TruncatedPng()
    {
        var png = ImageCodec.EncodePng(Gradient(40, 40));
        Assert.StartsWith("truncated PNG", LoadError(WriteFile("t.png", png[..(png.Length / 2)])).Problem);
    }

    [Fact]
    public void PngWithoutItsEndChunk()
    {
        var png = ImageCodec.EncodePng(Gradient(40, 40));
        Assert.StartsWith("truncated PNG", LoadError(WriteFile("t.png", png[..^12])).Problem);
    }

    [Fact]
    public void CorruptPngData()
    {
        var png = ImageCodec.EncodePng(Gradient(40, 40));
        png[png.Length / 2] ^= 0x5A;
        Assert.StartsWith("corrupt PNG: CRC mismatch", LoadError(WriteFile("c.png", png)).Problem);
    }

    [Fact]
    public void TruncatedJpeg()
    {
        var jpg = Encode(Gradient(64, 64), new JpegEncoder { Quality = 90 });
        Assert.StartsWith("truncated JPEG", LoadError(WriteFile("t.jpg", jpg[..(jpg.Length * 2 / 3)])).Problem);
    }

    [Fact]
    public void CorruptJpegHeader()
    {
        var jpg = Encode(Gradient(64, 64), new JpegEncoder { Quality = 90 });
        // Keep SOI and EOI but destroy everything between: the decoder itself must refuse.
        for (int i = 4; i < jpg.Length - 2; i++) jpg[i] = 0x00;
        Assert.Contains("corrupt", LoadError(WriteFile("c.jpg", jpg)).Problem, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void TruncatedBmp()
    {
        var bmp = Encode(Gradient(30, 30), new BmpEncoder { BitsPerPixel = BmpBitsPerPixel.Pixel24 });
        Assert.StartsWith("truncated BMP", LoadError(WriteFile("t.bmp", bmp[..(bmp.Length / 2)])).Problem);
    }

    [Fact]
    public void NotAnImage() =>
        Assert.Contains("not a PNG, JPEG or BMP", LoadError(WriteFile("x.png", "GIF89a and then some bytes"u8.ToArray())).Problem);

    [Fact]
    public void AboveThePixelLimit()
    {
        string path = WriteFile("big.png", ImageCodec.EncodePng(Gradient(100, 50)));
        var ex = LoadError(path, new ImageLimits(MaxPixels: 4999));
        Assert.Equal("image is 100x50 = 5000 pixels, above the limit of 4999", ex.Problem);
        Assert.Equal(100, ImageCodec.Load(path, new ImageLimits(MaxPixels: 5000)).Width);
    }

    [Fact]
    public void AboveTheFileSizeLimit()
    {
        var png = ImageCodec.EncodePng(Gradient(20, 20));
        var ex = LoadError(WriteFile("a.png", png), new ImageLimits(MaxFileBytes: png.Length - 1));
        Assert.Contains("above the limit", ex.Problem);
    }

    [Fact]
    public void PngEncodingIsDeterministic() =>
        Assert.Equal(ImageCodec.EncodePng(Gradient(50, 30)), ImageCodec.EncodePng(Gradient(50, 30)));
}
