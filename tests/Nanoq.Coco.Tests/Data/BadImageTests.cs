using Nanoq.Coco.Data;
using Nanoq.Coco.Imaging;
using Nanoq.Coco.Tests.Imaging;

namespace Nanoq.Coco.Tests.Data;

/// <summary>
/// Issue 19 at the data-set level: a bad image is an error naming the file, the image id and the json — or, with
/// <see cref="BadImagePolicy.Skip"/>, a logged and counted omission; and a <c>file_name</c> cannot leave the images folder.
/// </summary>
public sealed class BadImageTests : IDisposable
{
    private readonly string _dir = TestData.TempDir("badimg");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly TransformOptions Plain = new() { Resize = ResizeMode.None, Normalizer = Normalizer.UnitRange };

    /// <summary>Six 32×32 images with one box each; the images at <paramref name="bad"/> are truncated PNGs.</summary>
    private CocoFolder Folder(params int[] bad)
    {
        string images = Directory.CreateDirectory(Path.Combine(_dir, "images")).FullName;
        var entries = new List<CocoImage>();
        var anns = new List<CocoAnnotation>();
        for (int i = 0; i < 6; i++)
        {
            var png = ImageCodec.EncodePng(ImageCodecTests.Gradient(32, 32));
            File.WriteAllBytes(Path.Combine(images, $"{i + 1}.png"), bad.Contains(i) ? png[..^20] : png);
            entries.Add(new CocoImage(i + 1, 32, 32, $"{i + 1}.png"));
            anns.Add(new CocoAnnotation(i + 1, i + 1, 1, new CocoBox(2, 2, 10, 10), 100, false));
        }
        new CocoDataset(entries, anns, [new CocoCategory(1, "thing", null)]).Save(Path.Combine(_dir, "instances.json"));
        return CocoFolder.OpenLayout(_dir);
    }

    [Fact]
    public void ByDefaultABadImageEndsTheEpochNamingFileIdAndJson()
    {
        var folder = Folder(bad: 3);
        var loader = new CocoDataLoader(folder, Plain, batchSize: 2, shuffle: false, seed: 0, sizeDivisibility: 1);
        Assert.Equal(BadImagePolicy.Throw, loader.BadImages);
        var ex = Assert.Throws<CocoFormatException>(() => loader.Epoch(0).ToList());
        Assert.StartsWith($"{folder.ImagePath(3)}: image id 4 (images[3] of {Path.Combine(_dir, "instances.json")}): truncated PNG", ex.Message);
        Assert.DoesNotContain('\n', ex.Message);
    }

    [Fact]
    public void SkipLeavesBadImagesOutLogsEachOnceAndCountsThem()
    {
        var folder = Folder(bad: [1, 4]);
        var logged = new List<string>();
        var loader = new CocoDataLoader(folder, Plain, batchSize: 2, shuffle: true, seed: 5, sizeDivisibility: 1)
        {
            BadImages = BadImagePolicy.Skip,
            OnBadImage = ex => logged.Add(ex.Message),
        };
        for (int epoch = 0; epoch < 3; epoch++)
        {
            var ids = loader.Epoch(epoch).SelectMany(b => b.Samples).Select(s => s.ImageId).Order().ToArray();
            Assert.Equal([1L, 3, 4, 6], ids);
        }
        Assert.Equal(2, loader.BadImageCount);
        Assert.Equal(2, logged.Count); // once per image, not once per epoch
        Assert.Equal([folder.ImagePath(1), folder.ImagePath(4)], loader.BadImageErrors.Select(e => e.FileName));
        Assert.All(logged, m => Assert.Contains("truncated PNG", m));
        Assert.Contains("image id 2 (images[1] of ", loader.BadImageErrors[0].Message);
    }

    [Fact]
    public void SkippedImagesDoNotChangeTheOtherImagesBatches()
    {
        // Order and flips are drawn before decoding, so the good images come out as they would with no bad image at all.
        var options = Plain with { FlipProbability = 0.5 };
        var clean = new CocoDataLoader(Folder(), options, 3, shuffle: true, seed: 11, sizeDivisibility: 1)
            .Epoch(0).SelectMany(b => b.Samples).Where(s => s.ImageId != 3).Select(s => (s.ImageId, s.Flipped)).ToList();
        var skipping = new CocoDataLoader(Folder(bad: 2), options, 3, shuffle: true, seed: 11, sizeDivisibility: 1) { BadImages = BadImagePolicy.Skip }
            .Epoch(0).SelectMany(b => b.Samples).Select(s => (s.ImageId, s.Flipped)).ToList();
        Assert.Equal(clean, skipping);
    }

    [Fact]
    public void ABatchOfOnlyBadImagesIsNotYielded()
    {
        var loader = new CocoDataLoader(Folder(bad: [0, 1]), Plain, batchSize: 2, shuffle: false, seed: 0, sizeDivisibility: 1)
        {
            BadImages = BadImagePolicy.Skip,
        };
        Assert.Equal([2, 2], loader.Epoch(0).Select(b => b.N));
    }

    [Fact]
    public void TryLoadReportsInsteadOfThrowing()
    {
        var folder = Folder(bad: 0);
        Assert.Null(folder.TryLoad(0, Plain, false, out var error));
        Assert.Equal(folder.ImagePath(0), error!.FileName);
        Assert.NotNull(folder.TryLoad(1, Plain, false, out error));
        Assert.Null(error);
    }

    [Theory]
    [InlineData("/etc/passwd", "is an absolute path")]
    [InlineData("\\\\server\\share\\x.jpg", "is an absolute path")]
    [InlineData("C:\\images\\x.jpg", "is an absolute path")]
    [InlineData("../secret.png", "contains '..'")]
    [InlineData("train/../../x.png", "contains '..'")]
    [InlineData("a/../b.png", "contains '..'")]
    [InlineData("..\\x.png", "contains '..'")]
    [InlineData("x\u0000.png", "contains a control character")]
    [InlineData("a\nb.png", "contains a control character")]
    public void FileNamesMustStayInsideTheImagesFolder(string fileName, string problem)
    {
        string json = $$"""{"images": [{"id": 1, "width": 4, "height": 4, "file_name": "a.png"}, {"id": 42, "width": 4, "height": 4, "file_name": {{System.Text.Json.JsonSerializer.Serialize(fileName)}}}], "annotations": [], "categories": []}""";
        string path = Path.Combine(_dir, "gt.json");
        File.WriteAllText(path, json);
        var ex = Assert.Throws<CocoFormatException>(() => CocoDataset.Load(path));
        Assert.Equal(path, ex.FileName);
        Assert.Equal("images[1].file_name", ex.Location);
        Assert.StartsWith("image id 42: ", ex.Problem);
        Assert.Contains(problem, ex.Problem);
        Assert.False(ex.Message.AsSpan().ContainsAnyInRange('\0', '\u001f'), "the message is one printable line");
    }

    [Theory]
    [InlineData("000000397133.jpg")]
    [InlineData("train2017/000000397133.jpg")]
    [InlineData("a..b.png")]
    [InlineData("..hidden.png")]
    public void OrdinaryFileNamesAreFine(string fileName) =>
        Assert.Single(CocoDataset.Parse($$"""{"images": [{"id": 1, "width": 4, "height": 4, "file_name": "{{fileName}}"}], "annotations": [], "categories": []}""").Images);
}
