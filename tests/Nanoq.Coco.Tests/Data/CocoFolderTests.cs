using Nanoq.Coco.Data;
using Nanoq.Coco.Evaluation;
using Nanoq.Coco.Imaging;

namespace Nanoq.Coco.Tests.Data;

/// <summary>Reading a COCO folder through the transforms, batching, and mapping predictions back.</summary>
public sealed class CocoFolderTests(ShapesFixture shapes) : IClassFixture<ShapesFixture>, IDisposable
{
    private readonly string _dir = TestData.TempDir("folder");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly TransformOptions Shorter = new() { ShorterSide = 200, MaxLongerSide = 333 };

    [Fact]
    public void SamplesCarryTheJsonBoxesIntoTheResizedImage()
    {
        var folder = CocoFolder.OpenLayout(shapes.Train);
        var s = folder.Load(2, Shorter);
        Assert.Equal((200, 200, 160, 160), (s.Width, s.Height, s.OriginalWidth, s.OriginalHeight));
        Assert.Equal(3 * 200 * 200, s.Image.Length);
        var anns = folder.Dataset.AnnotationsOf(s.ImageId);
        Assert.Equal(anns.Count, s.Boxes.Length);
        for (int i = 0; i < anns.Count; i++)
        {
            var b = anns[i].Bbox.ToXyxy();
            Assert.Equal(new XyxyBox(b.X1 * 1.25f, b.Y1 * 1.25f, b.X2 * 1.25f, b.Y2 * 1.25f), s.Boxes[i]);
            Assert.Equal(folder.Categories.Label(anns[i].CategoryId), s.Labels[i]);
            Assert.Equal(b, s.ToOriginal.Map(s.Boxes[i]));
        }
    }

    [Fact]
    public void FlippedSamplesMirrorPixelsAndBoxes()
    {
        var folder = CocoFolder.OpenLayout(shapes.Train);
        var options = new TransformOptions { Resize = ResizeMode.None, Normalizer = Normalizer.UnitRange };
        var plain = folder.Load(0, options);
        var flipped = folder.Load(0, options, flip: true);
        Assert.True(flipped.Flipped);
        Assert.Equal(plain.Image[5 * 160 + 10], flipped.Image[5 * 160 + 149]);
        for (int i = 0; i < plain.Boxes.Length; i++)
        {
            Assert.Equal(160 - plain.Boxes[i].X2, flipped.Boxes[i].X1);
            Assert.Equal(plain.Boxes[i].Y2, flipped.Boxes[i].Y2);
        }
    }

    [Fact]
    public void LetterboxedSamplesMapBack()
    {
        var folder = CocoFolder.OpenLayout(shapes.Train);
        var s = folder.Load(1, new TransformOptions { Resize = ResizeMode.Letterbox, LetterboxWidth = 256, LetterboxHeight = 128 });
        Assert.Equal((256, 128), (s.Width, s.Height));
        // 160×160 into 256×128: scale 0.8 → 128×128 at x offset 64.
        var first = folder.Dataset.AnnotationsOf(s.ImageId)[0].Bbox.ToXyxy();
        Assert.Equal(first.X1 * 0.8f + 64, s.Boxes[0].X1, 3);
        var back = s.ToOriginal.Map(s.Boxes[0]); // float round trip: equal to within rounding
        Assert.Equal(first.X1, back.X1, 3);
        Assert.Equal(first.Y1, back.Y1, 3);
        Assert.Equal(first.X2, back.X2, 3);
        Assert.Equal(first.Y2, back.Y2, 3);
    }

    [Fact]
    public void PerfectPredictionsMappedBackScoreApOne()
    {
        // The whole edge end to end: transformed targets as predictions → results builder → COCO eval against the json.
        var folder = CocoFolder.OpenLayout(shapes.Train);
        var builder = new CocoResultsBuilder(folder.Categories);
        var rng = new Rng(3);
        for (int i = 0; i < folder.Count; i++)
        {
            var s = folder.Load(i, Shorter with { FlipProbability = 0 }, flip: i % 2 == 0);
            var scores = s.Boxes.Select(_ => (float)rng.Uniform(0.1, 1)).ToArray();
            builder.Add(s, s.Boxes, s.Labels, scores);
        }
        string path = Path.Combine(_dir, "results.json");
        builder.Save(path);
        var stats = CocoEvaluator.Evaluate(folder.Dataset, CocoResults.Load(path, folder.Dataset)).Stats;
        Assert.Equal(1, stats.AP, 1e-9);
        Assert.Equal(1, stats.AR100, 1e-9);
    }

    [Fact]
    public void BatchesArePaddedToAMultipleOf32()
    {
        var folder = CocoFolder.OpenLayout(shapes.Train);
        var a = folder.Load(0, Shorter with { ShorterSide = 100 });
        var b = folder.Load(1, Shorter with { ShorterSide = 70 });
        var batch = Batcher.Collate([a, b], 32);
        Assert.Equal((2, 3, 128, 128), (batch.N, batch.C, batch.H, batch.W));
        Assert.Equal(a.Image[0], batch.Data[0]);
        Assert.Equal(a.Image[99], batch.Data[99]);
        Assert.Equal(0, batch.Data[100]);
        // Image b, channel 2, row 69, column 69 sits at ((1·3 + 2)·128 + 69)·128 + 69.
        Assert.Equal(b.Image[(2 * 70 + 69) * 70 + 69], batch.Data[((1 * 3 + 2) * 128 + 69) * 128 + 69]);
        Assert.Equal(0, batch.Data[((1 * 3 + 2) * 128 + 70) * 128 + 69]);
    }

    [Fact]
    public void TheLoaderIsReproducibleFromItsSeed()
    {
        var folder = CocoFolder.OpenLayout(shapes.Train);
        var options = Shorter with { ShorterSide = 64, MaxLongerSide = 64, FlipProbability = 0.5 };
        var l1 = new CocoDataLoader(folder, options, 4, shuffle: true, seed: 9);
        var l2 = new CocoDataLoader(folder, options, 4, shuffle: true, seed: 9);
        var e0 = l1.Epoch(0).ToList();
        Assert.Equal(2, e0.Count);
        Assert.Equal((4, 2), (e0[0].N, e0[1].N));
        Assert.Equal(e0.SelectMany(b => b.Data), l2.Epoch(0).SelectMany(b => b.Data));
        Assert.Equal(6, e0.SelectMany(b => b.Samples).Select(s => s.ImageId).Distinct().Count());
        var order0 = e0.SelectMany(b => b.Samples).Select(s => (s.ImageId, s.Flipped)).ToList();
        var order1 = l1.Epoch(1).SelectMany(b => b.Samples).Select(s => (s.ImageId, s.Flipped)).ToList();
        Assert.NotEqual(order0, order1);
        Assert.Single(new CocoDataLoader(folder, options, 4, shuffle: false, seed: 9, dropLast: true).Epoch(0));
    }

    [Fact]
    public void AMissingImageFileIsNamed()
    {
        var folder = CocoFolder.OpenLayout(shapes.Val);
        string copy = Path.Combine(_dir, "val");
        Directory.CreateDirectory(Path.Combine(copy, "images"));
        File.Copy(Path.Combine(shapes.Val, "instances.json"), Path.Combine(copy, "instances.json"));
        var ex = Assert.Throws<CocoFormatException>(() => CocoFolder.OpenLayout(copy).Load(0, Shorter));
        // The file, then which image of which data set it is (issue 19), then the problem.
        Assert.Equal($"{Path.Combine(copy, "images", folder.Dataset.Images[0].FileName)}: image id {folder.Dataset.Images[0].Id} "
                     + $"(images[0] of {Path.Combine(copy, "instances.json")}): image file not found", ex.Message);
    }

    [Fact]
    public void AnImageWhoseSizeDisagreesWithTheJsonIsNamed()
    {
        var ds = CocoDataset.Load(Path.Combine(shapes.Val, "instances.json"));
        var images = ds.Images.Select((im, i) => i == 1 ? im with { Width = 161 } : im).ToList();
        var edited = new CocoDataset(images, ds.Annotations, ds.Categories, "edited.json");
        var folder = new CocoFolder(edited, Path.Combine(shapes.Val, "images"));
        var ex = Assert.Throws<CocoFormatException>(() => folder.LoadImage(1));
        Assert.Contains("image is 160x160 but edited.json images[1] says 161x160", ex.Message);
    }

    [Fact]
    public void ACorruptImageInAFolderIsNamed()
    {
        string copy = Path.Combine(_dir, "val2");
        Directory.CreateDirectory(Path.Combine(copy, "images"));
        File.Copy(Path.Combine(shapes.Val, "instances.json"), Path.Combine(copy, "instances.json"));
        var folder = CocoFolder.OpenLayout(copy);
        string img = folder.ImagePath(0);
        var bytes = File.ReadAllBytes(Path.Combine(shapes.Val, "images", folder.Dataset.Images[0].FileName));
        File.WriteAllBytes(img, bytes[..(bytes.Length - 100)]);
        var ex = Assert.Throws<CocoFormatException>(() => folder.Load(0, Shorter));
        Assert.StartsWith($"{img}: image id {folder.Dataset.Images[0].Id} (images[0] of ", ex.Message);
        Assert.StartsWith("truncated PNG", ex.Problem);
    }

    [Fact]
    public void TheLoaderReportsABadImageAsItselfLowestIndexFirst()
    {
        string copy = Path.Combine(_dir, "val3");
        Directory.CreateDirectory(Path.Combine(copy, "images"));
        File.Copy(Path.Combine(shapes.Val, "instances.json"), Path.Combine(copy, "instances.json"));
        var folder = CocoFolder.OpenLayout(copy);
        // Image 0 is fine, images 1 and 2 are missing: the error names image 1 whatever the thread timing.
        File.Copy(Path.Combine(shapes.Val, "images", folder.Dataset.Images[0].FileName), folder.ImagePath(0));
        var loader = new CocoDataLoader(folder, Shorter, batchSize: 3, shuffle: false, seed: 0);
        var ex = Assert.Throws<CocoFormatException>(() => loader.Epoch(0).ToList());
        Assert.Equal(folder.ImagePath(1), ex.FileName);
        Assert.Equal($"image id {folder.Dataset.Images[1].Id} (images[1] of {Path.Combine(copy, "instances.json")})", ex.Location);
        Assert.Equal("image file not found", ex.Problem);
    }

    [Fact]
    public void AnImageAboveThePixelLimitInAFolderIsNamed()
    {
        var folder = CocoFolder.OpenLayout(shapes.Val);
        var ex = Assert.Throws<CocoFormatException>(() => folder.Load(0, Shorter with { Limits = new ImageLimits(MaxPixels: 160 * 160 - 1) }));
        Assert.Contains("above the limit of 25599", ex.Message);
        Assert.StartsWith(folder.ImagePath(0), ex.Message);
    }

    [Fact]
    public void ResultsBuilderRefusesNonFiniteBoxesAndKeepsEmptyOnes()
    {
        var folder = CocoFolder.OpenLayout(shapes.Val);
        var builder = new CocoResultsBuilder(folder.Categories);
        Assert.Throws<ArgumentException>(() => builder.Add(1, [new XyxyBox(5, 5, float.NaN, 9)], [0], [0.5f], BoxMap.Identity));
        // An empty box (a detection clipped to the border, which torchvision's RetinaNet keeps) is a result, as in pycocotools.
        builder.Add(1, [new XyxyBox(5, 5, 5, 9)], [0], [0.5f], BoxMap.Identity);
        Assert.Equal(0, builder.Results.Single().Bbox.Width);
    }
}
