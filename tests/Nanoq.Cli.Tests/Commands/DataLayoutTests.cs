using Nanoq.Cli.Pipeline;

namespace Nanoq.Cli.Tests.Commands;

/// <summary>
/// --data in COCO's standard layout (annotations/instances_&lt;split&gt;*.json, images in &lt;split&gt;*/), the four
/// files named outright, and the error that lists what was looked for.
/// </summary>
public sealed class DataLayoutTests : CliTest, IDisposable
{
    private readonly string _dir = TestData.TempDir("layout");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A tiny bundled set rewritten as COCO's own layout: annotations/instances_{train,val}2017.json, {train,val}2017/.</summary>
    private (string Coco, DataSplits Bundled) CocoLayout(bool imagesUnderImages = false)
    {
        var bundled = DataSplits.Resolve("shapes", Path.Combine(_dir, "cache"), TextWriter.Null, trainImages: 16, valImages: 8, imageSize: 64);
        string coco = Path.Combine(_dir, "coco");
        Directory.CreateDirectory(Path.Combine(coco, "annotations"));
        foreach (var (split, folder) in new[] { ("train", bundled.Train), ("val", bundled.Val) })
        {
            string src = Path.Combine(Path.GetDirectoryName(folder.ImagesDirectory)!);
            File.Copy(Path.Combine(src, "instances.json"), Path.Combine(coco, "annotations", $"instances_{split}2017.json"));
            string images = imagesUnderImages ? Path.Combine(coco, "images", $"{split}2017") : Path.Combine(coco, $"{split}2017");
            Directory.CreateDirectory(images);
            foreach (var f in Directory.GetFiles(folder.ImagesDirectory)) File.Copy(f, Path.Combine(images, Path.GetFileName(f)));
        }
        return (coco, bundled);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_folder_in_cocos_layout_reads_as_the_same_data(bool imagesUnderImages)
    {
        var (coco, bundled) = CocoLayout(imagesUnderImages);
        var data = DataSplits.Resolve(coco, Path.Combine(_dir, "cache"), TextWriter.Null);
        Assert.Equal(bundled.Train.Count, data.Train.Count);
        Assert.Equal(bundled.Val.Count, data.Val.Count);
        Assert.Equal(bundled.Train.Categories.Names, data.Train.Categories.Names);
        Assert.EndsWith("train2017", data.Train.ImagesDirectory);
    }

    [Fact]
    public void Train_takes_cocos_layout_and_the_four_files_named_outright()
    {
        var (coco, _) = CocoLayout();
        var a = Nanoq("train", "--data", coco, "--steps", "1", "--batch", "2", "--input-size", "64", "--out", Path.Combine(_dir, "a"));
        Assert.True(a.Code == 0, a.Err);
        var b = Nanoq("train", "--train-images", Path.Combine(coco, "train2017"), "--train-json", Path.Combine(coco, "annotations", "instances_train2017.json"),
                      "--val-images", Path.Combine(coco, "val2017"), "--val-json", Path.Combine(coco, "annotations", "instances_val2017.json"),
                      "--steps", "1", "--batch", "2", "--input-size", "64", "--out", Path.Combine(_dir, "b"));
        Assert.True(b.Code == 0, b.Err);
        // Deterministic: the same data read two ways trains the same first step.
        Assert.Equal(File.ReadAllLines(Path.Combine(_dir, "a", "float.csv")), File.ReadAllLines(Path.Combine(_dir, "b", "float.csv")));
    }

    [Fact]
    public void A_folder_of_neither_layout_is_refused_listing_what_was_looked_for()
    {
        string empty = Path.Combine(_dir, "nothing");
        Directory.CreateDirectory(Path.Combine(empty, "pictures"));
        var (code, _, err) = Nanoq("train", "--data", empty, "--out", Path.Combine(_dir, "x"));
        Assert.Equal(2, code);
        Assert.Contains("train/instances.json", err);
        Assert.Contains("annotations/instances_train*.json", err);
        Assert.Contains("pictures", err); // what the folder does hold
        Assert.Single(err.Trim().Split('\n'));

        var partial = Nanoq("train", "--train-images", empty, "--out", Path.Combine(_dir, "y"));
        Assert.Equal(2, partial.Code);
        Assert.Contains("--train-json", partial.Err);
    }
}
