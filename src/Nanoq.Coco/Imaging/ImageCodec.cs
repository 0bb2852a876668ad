using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

namespace Nanoq.Coco.Imaging;

/// <summary>
/// Decoding (PNG, JPEG, BMP only) and PNG encoding through ImageSharp. Every failure is a
/// <see cref="CocoFormatException"/> naming the file: missing, too big, too many pixels, unknown format,
/// truncated or corrupt — including whatever exception the decoder itself throws on a damaged file. Limits are
/// checked on the file size, on the header's dimensions (<c>Image.Identify</c>, which reads the header only) and on
/// whether the file's bytes can describe that many pixels at all (<see cref="ImageIntegrity"/>), all before any
/// pixel buffer is allocated.
/// </summary>
public static class ImageCodec
{
    // Only the formats we promise; ImageSharp's default configuration would also take GIF, TGA, WebP...
    private static readonly Configuration Formats = new(new PngConfigurationModule(), new JpegConfigurationModule(), new BmpConfigurationModule());

    // Fixed settings so that the same pixels always give the same bytes (data sets are compared byte for byte).
    private static readonly PngEncoder Png = new()
    {
        ColorType = PngColorType.Rgb,
        BitDepth = PngBitDepth.Bit8,
        // Level 1 + adaptive filters: 4x faster than the default level on noisy textures, files ~4 % larger.
        CompressionLevel = PngCompressionLevel.BestSpeed,
        FilterMethod = PngFilterMethod.Adaptive,
        InterlaceMethod = PngInterlaceMode.None,
        IgnoreMetadata = true,
    };

    /// <summary>Reads and decodes an image file to RGB.</summary>
    public static RgbImage Load(string path, ImageLimits? limits = null)
    {
        limits ??= ImageLimits.Default;
        var info = new FileInfo(path);
        if (!info.Exists) throw new CocoFormatException(path, "", "image file not found");
        if (info.Length == 0) throw new CocoFormatException(path, "", "image file is empty");
        if (info.Length > limits.MaxFileBytes)
            throw new CocoFormatException(path, "", $"image file is {info.Length} bytes, above the limit of {limits.MaxFileBytes}");
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CocoFormatException(path, "", $"cannot read the image: {ex.Message}", ex);
        }
        return Decode(bytes, path, limits);
    }

    /// <summary>Decodes image bytes; <paramref name="source"/> names them in errors.</summary>
    public static RgbImage Decode(byte[] bytes, string source, ImageLimits? limits = null)
    {
        limits ??= ImageLimits.Default;
        if (bytes.LongLength > limits.MaxFileBytes)
            throw new CocoFormatException(source, "", $"image is {bytes.LongLength} bytes, above the limit of {limits.MaxFileBytes}");
        if (ImageIntegrity.Check(bytes) is { } problem)
            throw new CocoFormatException(source, "", problem);
        try
        {
            var header = Image.Identify(Formats, bytes, out _)
                ?? throw new CocoFormatException(source, "", "not a PNG, JPEG or BMP image");
            long pixels = (long)header.Width * header.Height;
            if (pixels > limits.MaxPixels)
                throw new CocoFormatException(source, "",
                    $"image is {header.Width}x{header.Height} = {pixels} pixels, above the limit of {limits.MaxPixels}");
            if (header.Width <= 0 || header.Height <= 0)
                throw new CocoFormatException(source, "", $"image has an empty size {header.Width}x{header.Height}");
            if (ImageIntegrity.CheckData(bytes) is { } dataProblem)
                throw new CocoFormatException(source, "", dataProblem);
            using var image = Image.Load<Rgb24>(Formats, bytes);
            var rgb = new RgbImage(image.Width, image.Height);
            image.CopyPixelDataTo(rgb.Pixels);
            return rgb;
        }
        catch (CocoFormatException)
        {
            throw;
        }
        catch (Exception ex) when (ex is not (OutOfMemoryException or OperationCanceledException))
        {
            // Whatever the decoder throws on a damaged file is a property of the file, not a bug of ours: besides its
            // documented ImageFormatException family, ImageSharp 2.1.13 lets InvalidDataException out of its zlib reader
            // (a PNG whose chunks have valid CRCs but whose deflate stream is broken) and NullReferenceException out of
            // its JPEG decoder (a truncated JPEG with its end marker put back). All of them become one error naming the
            // file, so a loader can report or skip it (CocoDataLoader.BadImages) instead of dying.
            throw new CocoFormatException(source, "", $"corrupt image: {ex.GetType().Name}: {OneLine(ex.Message)}", ex);
        }
    }

    private static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();

    /// <summary>PNG bytes of an image, byte-for-byte deterministic.</summary>
    public static byte[] EncodePng(RgbImage rgb)
    {
        using var image = Image.LoadPixelData<Rgb24>(rgb.Pixels, rgb.Width, rgb.Height);
        using var ms = new MemoryStream();
        image.Save(ms, Png);
        return ms.ToArray();
    }

    /// <summary>Writes an image as PNG.</summary>
    public static void SavePng(string path, RgbImage rgb) => File.WriteAllBytes(path, EncodePng(rgb));
}
