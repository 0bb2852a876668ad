using Nanoq.Coco.Datasets;

namespace Nanoq.Coco.Tests.Datasets;

public sealed class ShapesTests(ShapesFixture shapes) : IClassFixture<ShapesFixture>, IDisposable
{
    private readonly string _dir = TestData.TempDir("shapes-det");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    internal static Dictionary<string, byte[]> Files(string root) =>
        Directory.GetFiles(root, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(root, f), File.ReadAllBytes);

    [Fact]
    public void SameSeedGivesTheSameBytes()
    {
        string a = Path.Combine(_dir, "a"), b = Path.Combine(_dir, "b"), c = Path.Combine(_dir, "c");
        BundledDatasets.Write(new ShapesGenerator(96, 42), a, 4, 2, 42);
        BundledDatasets.Write(new ShapesGenerator(96, 42), b, 4, 2, 42);
        BundledDatasets.Write(new ShapesGenerator(96, 43), c, 4, 2, 43);
        var fa = Files(a);
        var fb = Files(b);
        Assert.Equal(fa.Keys.Order(), fb.Keys.Order());
        Assert.Contains(Path.Combine("train", "images", "000004.png"), fa.Keys);
        Assert.Contains(Path.Combine("val", "instances.json"), fa.Keys);
        foreach (var (name, bytes) in fa) Assert.True(bytes.AsSpan().SequenceEqual(fb[name]), $"{name} differs");
        Assert.False(fa[Path.Combine("train", "images", "000001.png")].AsSpan().SequenceEqual(Files(c)[Path.Combine("train", "images", "000001.png")]));
    }

    [Fact]
    public void TrainAndValDiffer()
    {
        var g = new ShapesGenerator(96, 1);
        Assert.NotEqual(g.Generate(DatasetSplit.Train, 0).Image.Pixels, g.Generate(DatasetSplit.Val, 0).Image.Pixels);
    }

    [Fact]
    public void AllThreeCocoSizeRangesArePresent()
    {
        var (s, m, l) = BundledDatasets.SizeCounts(shapes.TrainSet);
        Assert.True(s > 0 && m > 0 && l > 0, $"small {s}, medium {m}, large {l}");
    }

    [Fact]
    public void AnnotationsAreConsistent()
    {
        var ds = CocoDataset.Load(Path.Combine(shapes.Train, "instances.json"));
        Assert.Equal(6, ds.Images.Count);
        Assert.Equal(Enum.GetValues<ShapeKind>().Select(k => (long)k), ds.Categories.Select(c => c.Id));
        foreach (var im in ds.Images)
        {
            Assert.Equal((160, 160), (im.Width, im.Height));
            Assert.True(File.Exists(Path.Combine(shapes.Train, "images", im.FileName)));
            Assert.InRange(ds.AnnotationsOf(im.Id).Count, 3, 5);
        }
        foreach (var a in ds.Annotations)
        {
            Assert.Equal(a.Bbox.Width * a.Bbox.Height, a.Area);
            Assert.True(a.Bbox.X >= 0 && a.Bbox.Y >= 0 && a.Bbox.X + a.Bbox.Width <= 160 && a.Bbox.Y + a.Bbox.Height <= 160);
            Assert.Equal(Math.Floor(a.Bbox.X), a.Bbox.X);
        }
    }

    [Fact]
    public void SmallImagesHoldOnlyTheRangesThatFit()
    {
        var g = new ShapesGenerator(40, 3).Generate(DatasetSplit.Train, 0);
        Assert.All(g.Boxes, b => Assert.True(b.Area < 32 * 32));
    }
}
