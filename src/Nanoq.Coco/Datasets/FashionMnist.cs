using System.Buffers.Binary;
using System.IO.Compression;

namespace Nanoq.Coco.Datasets;

/// <summary>
/// Fashion-MNIST from IDX files (gzipped or not), as Debian's <c>dataset-fashion-mnist</c> installs them in
/// /usr/share/datasets/fashion-mnist: 28×28 grey garments, white on black, labels 0..9.
/// IDX: big-endian magic 0x00000803 (ubyte, 3 dims) or 0x00000801 (ubyte, 1 dim), the dims, then the bytes.
/// </summary>
public sealed class FashionMnist
{
    public const string DefaultDirectory = "/usr/share/datasets/fashion-mnist";
    public const string DebianPackage = "dataset-fashion-mnist";
    public const int Side = 28;

    public static IReadOnlyList<string> ClassNames { get; } =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>All images, Count × 28 × 28 bytes.</summary>
    public byte[] Images { get; }
    public byte[] Labels { get; }
    public int Count => Labels.Length;

    private FashionMnist(byte[] images, byte[] labels)
    {
        Images = images;
        Labels = labels;
    }

    public ReadOnlySpan<byte> Image(int i) => Images.AsSpan(i * Side * Side, Side * Side);

    /// <summary>
    /// Loads the training (<c>train-*</c>) or test (<c>t10k-*</c>) part from <paramref name="directory"/>.
    /// A missing file is a <see cref="CocoFormatException"/> that names the path and the Debian package.
    /// </summary>
    public static FashionMnist Load(bool train, string directory = DefaultDirectory)
    {
        string prefix = train ? "train" : "t10k";
        byte[] images = ReadIdx(Find(directory, $"{prefix}-images-idx3-ubyte"), 0x00000803, out var imageDims);
        byte[] labels = ReadIdx(Find(directory, $"{prefix}-labels-idx1-ubyte"), 0x00000801, out var labelDims);
        if (imageDims[1] != Side || imageDims[2] != Side || imageDims[0] != labelDims[0])
            throw new CocoFormatException(directory, "",
                $"Fashion-MNIST {prefix} files disagree: images {string.Join('x', imageDims)}, labels {labelDims[0]}");
        return new FashionMnist(images, labels);
    }

    /// <summary>True when both parts' files are present in <paramref name="directory"/>.</summary>
    public static bool IsInstalled(string directory = DefaultDirectory) =>
        new[] { "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte" }
            .All(n => File.Exists(Path.Combine(directory, n)) || File.Exists(Path.Combine(directory, n + ".gz")));

    private static string Find(string directory, string name)
    {
        string plain = Path.Combine(directory, name), gz = plain + ".gz";
        if (File.Exists(gz)) return gz;
        if (File.Exists(plain)) return plain;
        throw new CocoFormatException(gz, "",
            $"Fashion-MNIST file not found (nor {name} without .gz); install the Debian package {DebianPackage} " +
            $"(apt-get install {DebianPackage}) or pass the folder that holds the files");
    }

    internal static byte[] ReadIdx(string path, int expectedMagic, out int[] dims)
    {
        byte[] raw = File.ReadAllBytes(path);
        if (raw.Length >= 2 && raw[0] == 0x1F && raw[1] == 0x8B)
        {
            using var gz = new GZipStream(new MemoryStream(raw), CompressionMode.Decompress);
            using var ms = new MemoryStream();
            try { gz.CopyTo(ms); }
            catch (InvalidDataException ex) { throw new CocoFormatException(path, "", $"corrupt gzip data: {ex.Message}", ex); }
            raw = ms.ToArray();
        }
        if (raw.Length < 8) throw new CocoFormatException(path, "", "truncated IDX file: no header");
        int magic = BinaryPrimitives.ReadInt32BigEndian(raw);
        if (magic != expectedMagic)
            throw new CocoFormatException(path, "", $"not an IDX file of the expected kind: magic 0x{magic:X8}, expected 0x{expectedMagic:X8}");
        int rank = magic & 0xFF;
        if (raw.Length < 4 + 4 * rank) throw new CocoFormatException(path, "", "truncated IDX file: header cut short");
        dims = new int[rank];
        long total = 1;
        for (int i = 0; i < rank; i++)
        {
            dims[i] = BinaryPrimitives.ReadInt32BigEndian(raw.AsSpan(4 + 4 * i));
            if (dims[i] < 0) throw new CocoFormatException(path, "", $"IDX dimension {i} is negative");
            total *= dims[i];
        }
        int offset = 4 + 4 * rank;
        if (raw.Length - offset != total)
            throw new CocoFormatException(path, "", $"IDX file holds {raw.Length - offset} data bytes, its header says {total}");
        return raw.AsSpan(offset).ToArray();
    }
}
