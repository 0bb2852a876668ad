using System.Buffers.Binary;
using System.IO.Compression;
using Nanoq.Coco.Datasets;

namespace Nanoq.Coco.Tests.Datasets;

/// <summary>
/// fashion-det needs Debian's dataset-fashion-mnist. Only <see cref="TinySetFromTheRealGarments"/> needs it installed,
/// and it returns early (passing, with a note on stdout) where it is not; the rest use IDX files the test writes.
/// </summary>
public sealed class FashionDetTests : IDisposable
{
    private readonly string _dir = TestData.TempDir("fashion");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Writes a fake Fashion-MNIST part: n images, image i a filled rectangle, label i % 10.</summary>
    private void WriteFake(string prefix, int n, bool gzip)
    {
        var images = new byte[16 + n * 784];
        BinaryPrimitives.WriteInt32BigEndian(images, 0x803);
        BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(4), n);
        BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(8), 28);
        BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(12), 28);
        for (int i = 0; i < n; i++)
            for (int y = 4; y < 24; y++)
                for (int x = 8 + i % 3; x < 20; x++) images[16 + i * 784 + y * 28 + x] = 200;
        var labels = new byte[8 + n];
        BinaryPrimitives.WriteInt32BigEndian(labels, 0x801);
        BinaryPrimitives.WriteInt32BigEndian(labels.AsSpan(4), n);
        for (int i = 0; i < n; i++) labels[8 + i] = (byte)(i % 10);
        Save($"{prefix}-images-idx3-ubyte", images, gzip);
        Save($"{prefix}-labels-idx1-ubyte", labels, gzip);
    }

    private void Save(string name, byte[] bytes, bool gzip)
    {
        if (!gzip) { File.WriteAllBytes(Path.Combine(_dir, name), bytes); return; }
        using var f = File.Create(Path.Combine(_dir, name + ".gz"));
        using var gz = new GZipStream(f, CompressionLevel.Fastest);
        gz.Write(bytes);
    }

    [Fact]
    public void MissingFilesNameThePathAndTheDebianPackage()
    {
        string empty = Path.Combine(_dir, "nothing-here");
        var ex = Assert.Throws<CocoFormatException>(() => new FashionDetGenerator(64, 0, empty));
        Assert.Contains(Path.Combine(empty, "train-images-idx3-ubyte.gz"), ex.Message);
        Assert.Contains("apt-get install dataset-fashion-mnist", ex.Message);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ReadsIdxGzippedOrNot(bool gzip)
    {
        WriteFake("train", 12, gzip);
        var part = FashionMnist.Load(train: true, _dir);
        Assert.Equal(12, part.Count);
        Assert.Equal(3, part.Labels[3]);
        Assert.Equal(200, part.Image(5)[10 * 28 + 12]);
    }

    [Fact]
    public void BadIdxMagicIsNamed()
    {
        File.WriteAllBytes(Path.Combine(_dir, "t10k-images-idx3-ubyte"), [0, 0, 8, 1, 0, 0, 0, 0]);
        WriteFake("t10k", 1, gzip: false);
        File.WriteAllBytes(Path.Combine(_dir, "t10k-images-idx3-ubyte"), [0, 0, 8, 1, 0, 0, 0, 0]);
        var ex = Assert.Throws<CocoFormatException>(() => FashionMnist.Load(train: false, _dir));
        Assert.Contains("magic 0x00000801, expected 0x00000803", ex.Message);
    }

    [Fact]
    public void GeneratesFromAnyIdxFolderWithAllSizeRanges()
    {
        WriteFake("train", 30, gzip: true);
        WriteFake("t10k", 10, gzip: true);
        var gen = new FashionDetGenerator(160, 5, _dir);
        var (train, val) = BundledDatasets.Write(gen, Path.Combine(_dir, "out"), 6, 2, 5);
        var (s, m, l) = BundledDatasets.SizeCounts(train);
        Assert.True(s > 0 && m > 0 && l > 0, $"small {s}, medium {m}, large {l}");
        Assert.Equal(10, train.Categories.Count);
        Assert.Equal(2, val.Images.Count);
        // The fake garments are 20 px tall at the source; every box keeps the garment's aspect ratio roughly.
        Assert.All(train.Annotations, a => Assert.InRange(a.Bbox.Height / a.Bbox.Width, 1.2, 2.8));
    }

    [Fact]
    public void TinySetFromTheRealGarments()
    {
        if (!FashionMnist.IsInstalled())
        {
            Console.WriteLine($"skipped: {FashionMnist.DebianPackage} is not installed in {FashionMnist.DefaultDirectory}");
            return;
        }
        var gen = new FashionDetGenerator(128, 11);
        var (train, val) = BundledDatasets.Write(gen, Path.Combine(_dir, "real"), 4, 2, 11);
        Assert.Equal(4, train.Images.Count);
        Assert.Equal(2, val.Images.Count);
        Assert.Equal("Ankle boot", train.Categories[^1].Name);
        var (s, m, l) = BundledDatasets.SizeCounts(train);
        Assert.True(s > 0 && m > 0 && l > 0, $"small {s}, medium {m}, large {l}");
        Assert.True(gen.Generate(DatasetSplit.Val, 1).Image.Pixels.AsSpan()
            .SequenceEqual(new FashionDetGenerator(128, 11).Generate(DatasetSplit.Val, 1).Image.Pixels));
    }
}
