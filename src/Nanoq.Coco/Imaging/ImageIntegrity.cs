using System.Buffers.Binary;

namespace Nanoq.Coco.Imaging;

/// <summary>
/// Structural checks that catch truncated and corrupt files which decoders tolerate (they fill missing pixels
/// with black and carry on): a PNG must be a chain of chunks with correct CRCs ending in IEND; a JPEG must end in
/// an EOI marker; a BMP must be as long as its header says. Returns null when the file looks whole, else what is
/// wrong.
/// </summary>
internal static class ImageIntegrity
{
    private static ReadOnlySpan<byte> PngSignature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

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
        while (true)
        {
            if (pos + 12 > file.Length) return $"truncated PNG: chunk header at byte {pos} runs past the end of the file";
            uint length = BinaryPrimitives.ReadUInt32BigEndian(file[pos..]);
            if (length > int.MaxValue || pos + 12 + (long)length > file.Length)
                return $"truncated PNG: chunk at byte {pos} needs {length} bytes of data, the file ends first";
            var typeAndData = file.Slice(pos + 4, 4 + (int)length);
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(file[(pos + 8 + (int)length)..]);
            if (Crc32.Compute(typeAndData) != crc)
                return $"corrupt PNG: CRC mismatch in chunk '{System.Text.Encoding.ASCII.GetString(typeAndData[..4])}' at byte {pos}";
            bool end = typeAndData[..4].SequenceEqual("IEND"u8);
            pos += 12 + (int)length;
            if (end) return null;
        }
    }

    private static string? CheckJpeg(ReadOnlySpan<byte> file)
    {
        // Trailing padding after EOI is common; allow a little of it.
        int end = file.Length;
        while (end > 2 && file.Length - end < 64 && file[end - 1] != 0xD9) end--;
        return end >= 4 && file[end - 2] == 0xFF && file[end - 1] == 0xD9
            ? null
            : "truncated JPEG: no end-of-image marker (FF D9) at the end of the file";
    }

    private static string? CheckBmp(ReadOnlySpan<byte> file)
    {
        if (file.Length < 54) return "truncated BMP: shorter than its headers";
        uint declared = BinaryPrimitives.ReadUInt32LittleEndian(file[2..]);
        uint dataOffset = BinaryPrimitives.ReadUInt32LittleEndian(file[10..]);
        if (dataOffset > file.Length) return $"truncated BMP: pixel data should start at byte {dataOffset}, the file has {file.Length}";
        if (declared != 0 && declared > file.Length) return $"truncated BMP: header says {declared} bytes, the file has {file.Length}";
        return null;
    }
}
