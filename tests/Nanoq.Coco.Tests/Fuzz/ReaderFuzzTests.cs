using System.Buffers.Binary;
using System.Text;
using Nanoq.Coco.Imaging;
using Nanoq.Coco.Tests.Imaging;
using Nanoq.Testing;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;
using Xunit.Abstractions;

namespace Nanoq.Coco.Tests.Fuzz;

/// <summary>
/// Issue 19's fuzz target for Coco's readers: instances json, results json, PNG, JPEG and BMP. Every mutant must load or
/// fail with a <see cref="CocoFormatException"/> naming the source in one line (see <see cref="Nanoq.Testing.Fuzz"/> for
/// the mutations, the CI size and <c>NANOQ_FUZZ_ITERATIONS</c> for long runs).
/// </summary>
public sealed class ReaderFuzzTests(ITestOutputHelper output)
{
    private const int CiIterations = 300;

    // Small pixel budget: a mutant may legitimately declare a few megapixels, and decoding each would make CI slow.
    private static readonly ImageLimits Limits = new(MaxFileBytes: 1 << 20, MaxPixels: 1 << 20);

    private static Func<Exception, bool> CleanFor(string source) => ex =>
        ex is CocoFormatException c && c.FileName == source && c.Message.StartsWith(source + ": ", StringComparison.Ordinal)
        && !c.Message.Contains('\n');

    private void Check(Nanoq.Testing.Fuzz.Report report)
    {
        output.WriteLine(report.ToString());
        Assert.True(report.Crashes.Count == 0, string.Join("\n", report.Crashes.Take(10)));
        Assert.True(report.Rejected > 0, "no mutant was rejected: the fuzzer is not reaching the checks");
    }

    internal const string Instances = """
        {"info": {"description": "fuzz seed", "year": 2026},
         "images": [{"id": 1, "width": 640, "height": 480, "file_name": "a.jpg"},
                    {"id": 2, "width": 320, "height": 200, "file_name": "sub/b.png"},
                    {"id": 7, "width": 50, "height": 60, "file_name": "c.bmp"}],
         "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 2, 30, 40], "area": 1200, "iscrowd": 0},
                         {"id": 2, "image_id": 1, "category_id": 5, "bbox": [10.5, 20.25, 3, 4], "area": 12.0, "iscrowd": 1},
                         {"id": 3, "image_id": 2, "category_id": 5, "bbox": [0, 0, 320, 200], "area": 64000, "segmentation": [[0, 0, 1, 1]]},
                         {"id": 9, "image_id": 7, "category_id": 1, "bbox": [5, 5, 5, 5], "area": 25, "iscrowd": false}],
         "categories": [{"id": 1, "name": "cat", "supercategory": "animal"}, {"id": 5, "name": "dog"}]}
        """;

    internal const string Results = """
        [{"image_id": 1, "category_id": 1, "bbox": [1, 2, 30, 40], "score": 0.9},
         {"image_id": 2, "category_id": 5, "bbox": [10.5, 20.25, 3, 4], "score": 0.125},
         {"image_id": 7, "category_id": 1, "bbox": [0, 0, 1e-3, 2], "score": 1e-7, "extra": {"nested": [1, 2, {"x": null}]}}]
        """;

    [Fact]
    public void InstancesJson()
    {
        const string source = "instances.json";
        var seeds = new[] { Encoding.UTF8.GetBytes(Instances), Encoding.UTF8.GetBytes(Instances.Replace("\n", "").Replace("  ", "")) };
        Check(Nanoq.Testing.Fuzz.Run("coco-json", seeds, Nanoq.Testing.Fuzz.Iterations(CiIterations), seed: 19, text: true,
            bytes => CocoJsonReader.ParseDataset(bytes, source), CleanFor(source)));
    }

    [Fact]
    public void ResultsJson()
    {
        const string source = "detections.json";
        var gt = CocoDataset.Parse(Instances, "instances.json");
        var seeds = new[] { Encoding.UTF8.GetBytes(Results), [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(Results)] };
        Check(Nanoq.Testing.Fuzz.Run("results-json", seeds, Nanoq.Testing.Fuzz.Iterations(CiIterations), seed: 20, text: true,
            bytes => CocoJsonReader.ParseResults(bytes, source, gt), CleanFor(source)));
    }

    private static byte[] Encode(int w, int h, SixLabors.ImageSharp.Formats.IImageEncoder encoder)
    {
        using var image = Image.LoadPixelData<Rgb24>(ImageCodecTests.Gradient(w, h).Pixels, w, h);
        using var ms = new MemoryStream();
        image.Save(ms, encoder);
        return ms.ToArray();
    }

    [Fact]
    public void Png()
    {
        const string source = "image.png";
        var seeds = new[]
        {
            ImageCodec.EncodePng(ImageCodecTests.Gradient(24, 20)),
            Encode(17, 9, new PngEncoder { ColorType = PngColorType.Palette, BitDepth = PngBitDepth.Bit4 }),
            Encode(12, 12, new PngEncoder { ColorType = PngColorType.Grayscale, BitDepth = PngBitDepth.Bit16, InterlaceMethod = PngInterlaceMode.Adam7 }),
            Encode(9, 14, new PngEncoder { ColorType = PngColorType.RgbWithAlpha, CompressionLevel = PngCompressionLevel.NoCompression }),
        };
        Check(Nanoq.Testing.Fuzz.Run("png", seeds, Nanoq.Testing.Fuzz.Iterations(CiIterations), seed: 21, text: false,
            bytes => ImageCodec.Decode(bytes, source, Limits), CleanFor(source), fixup: FixPngCrcs));
    }

    [Fact]
    public void Jpeg()
    {
        const string source = "image.jpg";
        var seeds = new[]
        {
            Encode(24, 20, new JpegEncoder { Quality = 75, ColorType = JpegColorType.YCbCrRatio420 }),
            Encode(16, 16, new JpegEncoder { Quality = 95, ColorType = JpegColorType.YCbCrRatio444 }),
            Encode(20, 8, new JpegEncoder { Quality = 50, ColorType = JpegColorType.Luminance }),
        };
        // Most damage cuts or garbles the end marker; put it back so the decoder itself meets the damage.
        Check(Nanoq.Testing.Fuzz.Run("jpeg", seeds, Nanoq.Testing.Fuzz.Iterations(CiIterations), seed: 22, text: false,
            bytes => ImageCodec.Decode(bytes, source, Limits), CleanFor(source), fixup: b => b.AsSpan().EndsWith([(byte)0xFF, (byte)0xD9]) ? b : [.. b, 0xFF, 0xD9]));
    }

    [Fact]
    public void Bmp()
    {
        const string source = "image.bmp";
        var seeds = new[]
        {
            Encode(13, 9, new BmpEncoder { BitsPerPixel = BmpBitsPerPixel.Pixel24 }),
            Encode(10, 7, new BmpEncoder { BitsPerPixel = BmpBitsPerPixel.Pixel8 }),
            Encode(5, 6, new BmpEncoder { BitsPerPixel = BmpBitsPerPixel.Pixel32, SupportTransparency = true }),
        };
        Check(Nanoq.Testing.Fuzz.Run("bmp", seeds, Nanoq.Testing.Fuzz.Iterations(CiIterations), seed: 23, text: false,
            bytes => ImageCodec.Decode(bytes, source, Limits), CleanFor(source), fixup: FixBmpSize));
    }

    /// <summary>Recomputes every chunk CRC of a (mutated) PNG, so the mutant reaches IHDR checks, zlib and the filters.</summary>
    internal static byte[] FixPngCrcs(byte[] png)
    {
        for (int pos = 8; pos + 12 <= png.Length;)
        {
            uint length = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(pos));
            if (length > png.Length - pos - 12) break;
            BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(pos + 8 + (int)length), Crc32.Compute(png.AsSpan(pos + 4, 4 + (int)length)));
            pos += 12 + (int)length;
        }
        return png;
    }

    /// <summary>Sets a BMP's file-size field to the mutant's length, so the header-size check does not stop it first.</summary>
    internal static byte[] FixBmpSize(byte[] bmp)
    {
        if (bmp.Length >= 6) BinaryPrimitives.WriteUInt32LittleEndian(bmp.AsSpan(2), (uint)bmp.Length);
        return bmp;
    }
}
