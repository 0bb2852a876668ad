using System.Buffers.Binary;
using Nanoq.Coco.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;

namespace Nanoq.Coco.Tests.Imaging;

/// <summary>
/// Issue 19's images, each reproduced as bytes: decoder failures that used to escape as other exception types, and
/// headers that promise far more pixels than the file can hold. Every one is a <see cref="CocoFormatException"/> naming
/// the file, raised before a pixel buffer is allocated.
/// </summary>
public sealed class CorruptImageTests : IDisposable
{
    private readonly string _dir = TestData.TempDir("corrupt");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    internal static byte[] Jpeg(int w, int h, int quality = 90)
    {
        using var image = Image.LoadPixelData<Rgb24>(ImageCodecTests.Gradient(w, h).Pixels, w, h);
        using var ms = new MemoryStream();
        image.Save(ms, new JpegEncoder { Quality = quality });
        return ms.ToArray();
    }

    internal static byte[] Bmp(int w, int h)
    {
        using var image = Image.LoadPixelData<Rgb24>(ImageCodecTests.Gradient(w, h).Pixels, w, h);
        using var ms = new MemoryStream();
        image.Save(ms, new BmpEncoder { BitsPerPixel = BmpBitsPerPixel.Pixel24 });
        return ms.ToArray();
    }

    private CocoFormatException Refused(string name, byte[] bytes)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        var ex = Assert.Throws<CocoFormatException>(() => ImageCodec.Load(path));
        Assert.StartsWith(path + ": ", ex.Message);
        Assert.DoesNotContain('\n', ex.Message);
        return ex;
    }

    /// <summary>Offset of the first chunk of <paramref name="type"/> in a PNG.</summary>
    private static int Chunk(byte[] png, string type)
    {
        for (int pos = 8; pos + 8 <= png.Length;)
        {
            int length = (int)BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(pos));
            if (System.Text.Encoding.ASCII.GetString(png, pos + 4, 4) == type) return pos;
            pos += 12 + length;
        }
        throw new InvalidOperationException($"no {type} chunk");
    }

    private static void FixCrc(byte[] png, int chunk)
    {
        int length = (int)BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(chunk));
        BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(chunk + 8 + length), Crc32.Compute(png.AsSpan(chunk + 4, 4 + length)));
    }

    [Fact]
    public void PngWithValidCrcsButABrokenDeflateStream()
    {
        // The reproduction: IDAT bytes scrambled and the CRC recomputed, so the chunk structure is perfect and only
        // zlib can tell; ImageSharp 2.1.13 let its InvalidDataException out. Now the image data is inflated and checked
        // before ImageSharp sees it (ImageIntegrity.CheckData), and the decoder's own exceptions are wrapped too.
        var png = ImageCodec.EncodePng(ImageCodecTests.Gradient(64, 64));
        int idat = Chunk(png, "IDAT");
        int length = (int)BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(idat));
        for (int i = idat + 8 + 2; i < idat + 8 + length; i += 3) png[i] = 0xFF;
        FixCrc(png, idat);
        var ex = Refused("zlib.png", png);
        Assert.StartsWith("corrupt PNG: the compressed image data is broken after ", ex.Problem);
    }

    [Fact]
    public void TruncatedJpegsWithTheirEndMarkerRestoredNeverEscape()
    {
        // The reproduction: a JPEG cut short and FF D9 appended, which passes the end-marker check; ImageSharp 2.1.13
        // threw NullReferenceException for some cuts. Every cut either decodes (the decoder fills the rest) or is refused.
        var jpg = Jpeg(48, 40);
        string path = Path.Combine(_dir, "cut.jpg");
        int refused = 0;
        for (int cut = 3; cut < jpg.Length - 2; cut += 5)
        {
            File.WriteAllBytes(path, [.. jpg.AsSpan(0, cut), 0xFF, 0xD9]);
            try { ImageCodec.Load(path); }
            catch (CocoFormatException ex) { Assert.StartsWith(path + ": ", ex.Message); refused++; }
        }
        Assert.True(refused > 0);
    }

    [Fact]
    public void ATinyJpegDeclaring8000x8000IsRefusedBeforeDecoding()
    {
        // The reproduction: a small JPEG whose frame header is edited to 8000×8000 (ImageSharp decoded such a file into
        // 616 MiB). 64 M pixels are within the pixel limit; the file's size is what gives it away.
        var jpg = Jpeg(16, 16, quality: 50);
        int sof = jpg.AsSpan().IndexOf([(byte)0xFF, (byte)0xC0]);
        BinaryPrimitives.WriteUInt16BigEndian(jpg.AsSpan(sof + 5), 8000);
        BinaryPrimitives.WriteUInt16BigEndian(jpg.AsSpan(sof + 7), 8000);
        Assert.True(jpg.Length < 1000, $"{jpg.Length} bytes");
        long before = GC.GetAllocatedBytesForCurrentThread();
        var ex = Refused("huge.jpg", jpg);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 4 << 20, "nothing image-sized was allocated");
        Assert.StartsWith("corrupt JPEG: header declares 8000x8000 (1000000 blocks of 8x8)", ex.Problem);
    }

    [Fact]
    public void APngDeclaringFarMorePixelsThanItsDataCanHoldIsRefused()
    {
        var png = ImageCodec.EncodePng(ImageCodecTests.Gradient(8, 8));
        int ihdr = Chunk(png, "IHDR");
        BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(ihdr + 8), 8000);
        BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(ihdr + 12), 8000);
        FixCrc(png, ihdr);
        Assert.Contains("more than deflate's 1032:1 can expand", Refused("huge.png", png).Problem);
    }

    [Fact]
    public void ABmpDeclaringMoreRowsThanItHoldsIsRefused()
    {
        var bmp = Bmp(10, 10);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(18), 4000);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(22), 4000);
        BinaryPrimitives.WriteUInt32LittleEndian(bmp.AsSpan(2), 0); // a size field of 0 is allowed: the rows must still be there
        Assert.StartsWith("truncated BMP: 4000x4000 at 24 bits per pixel needs", Refused("huge.bmp", bmp).Problem);
    }

    [Fact]
    public void ARleBmpThatSkipsAlmostEverythingIsRefused()
    {
        // 8-bit RLE: one delta escape (00 02 dx dy) and end of bitmap (00 01) "describe" 4000×4000 pixels in 6 bytes.
        var bmp = new byte[54 + 1024 + 6];
        "BM"u8.CopyTo(bmp);
        BinaryPrimitives.WriteUInt32LittleEndian(bmp.AsSpan(2), (uint)bmp.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(bmp.AsSpan(10), 54 + 1024);
        BinaryPrimitives.WriteUInt32LittleEndian(bmp.AsSpan(14), 40);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(18), 4000);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(22), 4000);
        BinaryPrimitives.WriteUInt16LittleEndian(bmp.AsSpan(26), 1);
        BinaryPrimitives.WriteUInt16LittleEndian(bmp.AsSpan(28), 8);
        BinaryPrimitives.WriteUInt32LittleEndian(bmp.AsSpan(30), 1);
        bmp.AsSpan(^6).Clear();
        bmp[^5] = 2; bmp[^4] = 255; bmp[^3] = 255; bmp[^1] = 1;
        Assert.StartsWith("corrupt BMP: header declares 4000x4000", Refused("rle.bmp", bmp).Problem);
    }

    [Fact]
    public void RealImagesOfEveryFormatStillLoad()
    {
        // The plausibility bounds are lower bounds on real encoders' output: a flat image compresses best of all.
        var flat = new RgbImage(1024, 768);
        flat.Fill(90, 90, 90);
        using var image = Image.LoadPixelData<Rgb24>(flat.Pixels, 1024, 768);
        foreach (var (name, encoder) in new (string, SixLabors.ImageSharp.Formats.IImageEncoder)[]
                 {
                     ("flat.jpg", new JpegEncoder { Quality = 10 }),
                     ("flat.png", new SixLabors.ImageSharp.Formats.Png.PngEncoder { CompressionLevel = SixLabors.ImageSharp.Formats.Png.PngCompressionLevel.BestCompression }),
                     ("flat.bmp", new BmpEncoder { BitsPerPixel = BmpBitsPerPixel.Pixel24 }),
                 })
        {
            string path = Path.Combine(_dir, name);
            image.Save(path, encoder);
            Assert.Equal(1024, ImageCodec.Load(path).Width);
        }
    }

    [Fact]
    public void AnInterlacedPngWhoseDataEndsEarlyIsRefusedNotDecodedForever()
    {
        // Found by the fuzz tests (png, seed 21, iteration 370): a 12×12 16-bit grey Adam7 PNG with a damaged deflate
        // stream and valid CRCs. ImageSharp 2.1.13's Image.Load never returns on it (LoadAsync ignores cancellation too).
        var png = Convert.FromBase64String("iVBORw0KGgoAAAANSUhEUgAAAAwAAAAMEAAAAAFUie/uAAAACXBIWXMAAA7EAAAOxAGVKw4bAAAArklEQVR4nHVNuw3CMBRszth+kZLCFoIqIgWwAT0UbMIUUGYEOrrsQbr0tkIRJsBb8PKVQKCTLd/XENftGXm9qbHcIX/gWNjCNkhOtjEF9rFNTIxDZZ+mwvpGjjwpctqx1hPtqOIctVCab9CFdcfERworRXIAEzkRiaxsd3jND44enZ5EUnsm84UICOIlAiMV04tTQoLPN/jLzlCTpEbjzsUAAJT41cjKLgDRQJilbxDsPmnMoNhzAAAAAElFTkSuQmCC");
        var ex = Refused("hang.png", png);
        Assert.Contains("PNG", ex.Problem);
    }

    [Fact]
    public void PngImageDataMustMatchItsHeader()
    {
        // Too little data (an IDAT cut inside the deflate stream, CRC fixed) and a bad filter byte (data re-compressed).
        var png = ImageCodec.EncodePng(ImageCodecTests.Gradient(40, 30));
        int idat = Chunk(png, "IDAT");
        int length = (int)BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(idat));
        int keep = length / 2;
        var cut = png[..(idat + 8 + keep)].Concat(new byte[4]).Concat(png[(idat + 12 + length)..]).ToArray();
        BinaryPrimitives.WriteUInt32BigEndian(cut.AsSpan(idat), (uint)keep);
        FixCrc(cut, idat);
        Assert.Matches("^(truncated|corrupt) PNG: ", Refused("short.png", cut).Problem);

        var raw = new byte[30 * (1 + 40 * 3)];
        raw[31 * 0] = 0;
        raw[(1 + 40 * 3) * 7] = 9; // row 7's filter type
        using var ms = new MemoryStream();
        using (var z = new System.IO.Compression.ZLibStream(ms, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true)) z.Write(raw);
        var data = ms.ToArray();
        var bad = png[..(idat + 8)].Concat(data).Concat(new byte[4]).Concat(png[(idat + 12 + length)..]).ToArray();
        BinaryPrimitives.WriteUInt32BigEndian(bad.AsSpan(idat), (uint)data.Length);
        FixCrc(bad, idat);
        Assert.Equal($"corrupt PNG: scanline filter type 9 at byte {(1 + 40 * 3) * 7} of the image data (0..4 exist)", Refused("filter.png", bad).Problem);
    }
}
