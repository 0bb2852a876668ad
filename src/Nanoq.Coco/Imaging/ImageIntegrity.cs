using System.Buffers.Binary;

namespace Nanoq.Coco.Imaging;

/// <summary>
/// Structural checks that catch truncated, corrupt and forged files which decoders tolerate (they fill missing pixels
/// with black and carry on, after allocating whatever the header asks for): a PNG must be a chain of chunks with correct
/// CRCs ending in IEND; a JPEG must end in an EOI marker; a BMP must be as long as its header says. Each format's
/// header is also held against the bytes that follow it, so a tiny file cannot make the decoder allocate for a huge
/// image it cannot possibly describe (issue 19: a 543-byte JPEG declaring 8000×8000 decoded to 616 MiB):
/// <list type="bullet">
/// <item>PNG: deflate expands at most 1032:1, so the IDAT bytes bound the filtered scanlines IHDR implies;</item>
/// <item>JPEG (Huffman-coded, baseline or progressive): every 8×8 block of the full-resolution component costs at least
///   one bit in its DC scan, so the file bounds the block count (arithmetic-coded JPEGs can go below a bit per block
///   and are bounded only by <see cref="ImageLimits.MaxPixels"/>);</item>
/// <item>BMP: uncompressed rows must all be in the file; RLE runs cover at most 255 pixels per 2 bytes, so RLE data
///   shorter than 1/128 of the pixels is refused (a file that skips most of its pixels is treated as forged).</item>
/// </list>
/// Returns null when the file looks whole, else what is wrong.
/// </summary>
internal static class ImageIntegrity
{
    private static ReadOnlySpan<byte> PngSignature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Deflate's largest expansion: a 258-byte match per 2 bits, ≈ 1032:1 (zlib's tech notes).</summary>
    internal const long DeflateMaxRatio = 1032;

    public static string? Check(ReadOnlySpan<byte> file)
    {
        if (file.StartsWith(PngSignature)) return CheckPng(file);
        if (file.Length >= 3 && file[0] == 0xFF && file[1] == 0xD8 && file[2] == 0xFF) return CheckJpeg(file);
        if (file.Length >= 2 && file[0] == (byte)'B' && file[1] == (byte)'M') return CheckBmp(file);
        return "not a PNG, JPEG or BMP file (unrecognized signature)";
    }

    private static string? CheckPng(ReadOnlySpan<byte> file)
    {
        int pos = PngSignature.Length;
        long idat = 0;
        long minScanlineBytes = -1;
        string dims = "";
        while (true)
        {
            if (pos + 12 > file.Length) return $"truncated PNG: chunk header at byte {pos} runs past the end of the file";
            uint length = BinaryPrimitives.ReadUInt32BigEndian(file[pos..]);
            if (length > int.MaxValue || pos + 12 + (long)length > file.Length)
                return $"truncated PNG: chunk at byte {pos} needs {length} bytes of data, the file ends first";
            var typeAndData = file.Slice(pos + 4, 4 + (int)length);
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(file[(pos + 8 + (int)length)..]);
            if (Crc32.Compute(typeAndData) != crc)
                return $"corrupt PNG: CRC mismatch in chunk '{Ascii(typeAndData[..4])}' at byte {pos}";
            var type = typeAndData[..4];
            if (type.SequenceEqual("IHDR"u8) && length >= 13)
            {
                var h = typeAndData[4..];
                uint w = BinaryPrimitives.ReadUInt32BigEndian(h), ht = BinaryPrimitives.ReadUInt32BigEndian(h[4..]);
                int channels = h[9] switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, 6 => 4, _ => 0 };
                long bitsPerPixel = (long)h[8] * channels;
                dims = $"{w}x{ht}";
                // Interlacing and filter-type bytes only add to this, so it is a lower bound either way.
                if (bitsPerPixel > 0 && w <= int.MaxValue && ht <= int.MaxValue)
                    minScanlineBytes = ht * ((w * bitsPerPixel + 7) / 8);
            }
            else if (type.SequenceEqual("IDAT"u8)) idat += length;
            bool end = type.SequenceEqual("IEND"u8);
            pos += 12 + (int)length;
            if (end) break;
        }
        if (minScanlineBytes > 0 && minScanlineBytes > DeflateMaxRatio * idat + 1024)
            return $"corrupt PNG: header declares {dims} ({minScanlineBytes} bytes of scanlines) but the image data is {idat} compressed bytes, "
                 + $"more than deflate's {DeflateMaxRatio}:1 can expand (truncated or forged)";
        return null;
    }

    /// <summary>
    /// The second, costlier pass, run after the pixel limit has been checked: a PNG's image data is inflated (streaming,
    /// nothing kept) and must hold exactly the scanlines its IHDR implies, each starting with a valid filter type. This
    /// is what a decoder would find anyway, but ImageSharp 2.1.13 does not always find it: an interlaced PNG whose
    /// deflate stream ends early loops forever in its Adam7 reader (found by the fuzz tests; cancellation does not reach
    /// it). Costs one more inflate of the file (about a third of a decode). Null when the data is whole.
    /// </summary>
    public static string? CheckData(byte[] file)
    {
        if (!file.AsSpan().StartsWith(PngSignature)) return null;
        // CheckPng has already walked the chunks; walk them again to collect IHDR and the IDAT data.
        int pos = PngSignature.Length;
        byte[]? ihdr = null;
        using var idat = new MemoryStream();
        while (pos + 12 <= file.Length)
        {
            int length = (int)BinaryPrimitives.ReadUInt32BigEndian(file.AsSpan(pos));
            var type = file.AsSpan(pos + 4, 4);
            if (type.SequenceEqual("IHDR"u8) && length == 13) ihdr = file.AsSpan(pos + 8, 13).ToArray();
            else if (type.SequenceEqual("IDAT"u8)) idat.Write(file, pos + 8, length);
            else if (type.SequenceEqual("IEND"u8)) break;
            pos += 12 + length;
        }
        if (ihdr is null) return "corrupt PNG: no valid IHDR chunk";
        long width = BinaryPrimitives.ReadUInt32BigEndian(ihdr), height = BinaryPrimitives.ReadUInt32BigEndian(ihdr.AsSpan(4));
        int depth = ihdr[8], color = ihdr[9];
        int channels = color switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, 6 => 4, _ => 0 };
        bool depthOk = color switch
        {
            0 => depth is 1 or 2 or 4 or 8 or 16,
            3 => depth is 1 or 2 or 4 or 8,
            2 or 4 or 6 => depth is 8 or 16,
            _ => false,
        };
        if (!depthOk) return $"corrupt PNG: IHDR has bit depth {depth} with color type {color}, which PNG does not allow";
        if (ihdr[10] != 0 || ihdr[11] != 0 || ihdr[12] > 1)
            return $"corrupt PNG: IHDR has compression {ihdr[10]}, filter {ihdr[11]}, interlace {ihdr[12]} (only 0, 0, 0 or 1 exist)";
        if (width == 0 || height == 0 || width > int.MaxValue || height > int.MaxValue) return $"corrupt PNG: IHDR declares {width}x{height}";

        // The scanline layout: one pass, or Adam7's seven (x0, y0, dx, dy); each row is a filter byte plus its pixels.
        (int X0, int Y0, int Dx, int Dy)[] passes = ihdr[12] == 0
            ? [(0, 0, 1, 1)]
            : [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)];
        long bitsPerPixel = (long)depth * channels;
        var rows = new List<(long Count, long Bytes)>();
        long expected = 0;
        foreach (var (x0, y0, dx, dy) in passes)
        {
            long cols = (width - x0 + dx - 1) / dx, count = (height - y0 + dy - 1) / dy;
            if (cols <= 0 || count <= 0) continue;
            long rowBytes = 1 + (cols * bitsPerPixel + 7) / 8;
            rows.Add((count, rowBytes));
            expected += count * rowBytes;
        }

        idat.Position = 0;
        long total = 0, nextFilter = 0;
        int pass = 0;
        long rowInPass = 0;
        var buffer = new byte[1 << 16];
        try
        {
            using var z = new System.IO.Compression.ZLibStream(idat, System.IO.Compression.CompressionMode.Decompress);
            while (total < expected)
            {
                int n = z.Read(buffer, 0, (int)Math.Min(buffer.Length, expected - total));
                if (n == 0) break;
                // Every row's first byte is its filter type, 0..4.
                while (nextFilter < total + n)
                {
                    byte filter = buffer[nextFilter - total];
                    if (filter > 4) return $"corrupt PNG: scanline filter type {filter} at byte {nextFilter} of the image data (0..4 exist)";
                    nextFilter += rows[pass].Bytes;
                    if (++rowInPass == rows[pass].Count && ++pass < rows.Count) rowInPass = 0;
                    if (pass == rows.Count) { nextFilter = long.MaxValue; break; }
                }
                total += n;
            }
        }
        catch (InvalidDataException ex)
        {
            return $"corrupt PNG: the compressed image data is broken after {total} of {expected} bytes ({ex.Message.ReplaceLineEndings(" ").TrimEnd('.')})";
        }
        return total < expected
            ? $"truncated PNG: the image data inflates to {total} bytes, IHDR ({width}x{height}) needs {expected}"
            : null;
    }

    private static string? CheckJpeg(ReadOnlySpan<byte> file)
    {
        // Trailing padding after EOI is common; allow a little of it.
        int end = file.Length;
        while (end > 2 && file.Length - end < 64 && file[end - 1] != 0xD9) end--;
        if (!(end >= 4 && file[end - 2] == 0xFF && file[end - 1] == 0xD9))
            return "truncated JPEG: no end-of-image marker (FF D9) at the end of the file";
        if (JpegFrame(file) is not { } frame || frame.Arithmetic || frame.Width == 0 || frame.Height == 0) return null;
        long blocks = (long)((frame.Width + 7) / 8) * ((frame.Height + 7) / 8);
        if (blocks > 8L * file.Length)
            return $"corrupt JPEG: header declares {frame.Width}x{frame.Height} ({blocks} blocks of 8x8) but {file.Length} bytes "
                 + $"can code at most {8L * file.Length} (one bit per block at least; truncated or forged)";
        return null;
    }

    /// <summary>The frame header (SOFn) of a JPEG: walks the marker segments up to the first scan; null if there is none.</summary>
    private static (int Width, int Height, bool Arithmetic)? JpegFrame(ReadOnlySpan<byte> file)
    {
        int pos = 2;
        while (pos + 4 <= file.Length)
        {
            if (file[pos] != 0xFF) return null;
            byte marker = file[pos + 1];
            if (marker == 0xFF) { pos++; continue; } // fill byte
            if (marker is 0x01 or (>= 0xD0 and <= 0xD8)) { pos += 2; continue; } // standalone markers
            if (marker is 0xDA or 0xD9) return null; // a scan (or the end) before any frame header
            int length = BinaryPrimitives.ReadUInt16BigEndian(file[(pos + 2)..]);
            bool sof = marker is >= 0xC0 and <= 0xCF and not (0xC4 or 0xC8 or 0xCC);
            if (sof)
            {
                if (pos + 9 > file.Length) return null;
                int height = BinaryPrimitives.ReadUInt16BigEndian(file[(pos + 5)..]);
                int width = BinaryPrimitives.ReadUInt16BigEndian(file[(pos + 7)..]);
                return (width, height, marker >= 0xC9);
            }
            if (length < 2) return null;
            pos += 2 + length;
        }
        return null;
    }

    private static string? CheckBmp(ReadOnlySpan<byte> file)
    {
        if (file.Length < 54) return "truncated BMP: shorter than its headers";
        uint declared = BinaryPrimitives.ReadUInt32LittleEndian(file[2..]);
        uint dataOffset = BinaryPrimitives.ReadUInt32LittleEndian(file[10..]);
        if (dataOffset > file.Length) return $"truncated BMP: pixel data should start at byte {dataOffset}, the file has {file.Length}";
        if (declared != 0 && declared > file.Length) return $"truncated BMP: header says {declared} bytes, the file has {file.Length}";

        uint dibSize = BinaryPrimitives.ReadUInt32LittleEndian(file[14..]);
        if (dibSize < 40) return null; // OS/2 core headers: small, rare, left to the decoder and the pixel limit
        long width = BinaryPrimitives.ReadInt32LittleEndian(file[18..]);
        long height = Math.Abs((long)BinaryPrimitives.ReadInt32LittleEndian(file[22..]));
        int bitsPerPixel = BinaryPrimitives.ReadUInt16LittleEndian(file[28..]);
        uint compression = BinaryPrimitives.ReadUInt32LittleEndian(file[30..]);
        if (width <= 0 || height == 0 || bitsPerPixel == 0) return null;
        long available = file.Length - dataOffset;
        if (compression is 0 or 3 or 6) // BI_RGB, BI_BITFIELDS, BI_ALPHABITFIELDS: every row is stored
        {
            // Rows are padded to 4 bytes; some writers leave the last row's padding out, so it is not required.
            long rowBytes = (width * bitsPerPixel + 31) / 32 * 4;
            long needed = rowBytes * (height - 1) + (width * bitsPerPixel + 7) / 8;
            if (needed > available)
                return $"truncated BMP: {width}x{height} at {bitsPerPixel} bits per pixel needs {needed} bytes of pixel data, the file has {available} from byte {dataOffset}";
        }
        else if (compression is 1 or 2 && width * height > 128 * available) // BI_RLE8, BI_RLE4
            return $"corrupt BMP: header declares {width}x{height} but {available} bytes of RLE data cover at most {128 * available} pixels (truncated or forged)";
        return null;
    }

    private static string Ascii(ReadOnlySpan<byte> bytes)
    {
        Span<char> chars = stackalloc char[bytes.Length];
        for (int i = 0; i < bytes.Length; i++) chars[i] = bytes[i] is >= 0x20 and < 0x7F ? (char)bytes[i] : '?';
        return new string(chars);
    }
}
