namespace Nanoq.Coco.Tests.Json;

public sealed class RoundTripTests : IDisposable
{
    private readonly string _dir = TestData.TempDir("roundtrip");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void GroundTruthSurvivesSaveAndLoad()
    {
        var gt = CocoDataset.Load(TestData.CocoEval("case09_crowd", "gt.json"));
        string path = Path.Combine(_dir, "gt.json");
        gt.Save(path);
        var back = CocoDataset.Load(path);
        Assert.Equal(gt.Images, back.Images);
        Assert.Equal(gt.Annotations, back.Annotations);
        Assert.Equal(gt.Categories, back.Categories);
        Assert.Equal(gt.InfoJson, back.InfoJson);
        Assert.Contains(back.Annotations, a => a.IsCrowd);
        // Writing is deterministic: the same data gives the same bytes.
        string again = Path.Combine(_dir, "gt2.json");
        back.Save(again);
        Assert.Equal(File.ReadAllBytes(path), File.ReadAllBytes(again));
    }

    [Fact]
    public void ResultsSurviveSaveAndLoad()
    {
        var gt = CocoDataset.Load(TestData.CocoEval("case00_plain", "gt.json"));
        var dts = CocoResults.Load(TestData.CocoEval("case00_plain", "dt.json"), gt);
        string path = Path.Combine(_dir, "dt.json");
        CocoResults.Save(path, dts);
        Assert.Equal(dts, CocoResults.Load(path, gt));
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp-*"));
    }

    [Fact]
    public void FloatBoxesAreWrittenAsShortDecimalsThatRoundTrip()
    {
        var r = CocoResult.FromXyxy(1, 1, new XyxyBox(12.3f, 4.5f, 20.1f, 9.9f), 0.7f);
        Assert.Equal(12.3, r.Bbox.X);
        Assert.Equal(0.7, r.Score);
        Assert.Equal(20.1f, (float)(r.Bbox.X + r.Bbox.Width), 4);
    }

    [Fact]
    public void IscrowdMayBeABoolOrAbsent()
    {
        string json = """
            {"images": [{"id": 1, "width": 10, "height": 10, "file_name": "a.png"}],
             "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 2, 2], "area": 4, "iscrowd": true},
                             {"id": 2, "image_id": 1, "category_id": 1, "bbox": [0, 0, 2, 2], "area": 4, "segmentation": [[0, 0, 1, 1]]}],
             "categories": [{"id": 1, "name": "x", "supercategory": "y"}], "licenses": []}
            """;
        var ds = CocoDataset.Parse(json);
        Assert.True(ds.Annotations[0].IsCrowd);
        Assert.False(ds.Annotations[1].IsCrowd);
        Assert.Equal("y", ds.Categories[0].Supercategory);
    }
}
