using System.Text;
namespace Nanoq.Coco.Tests.Json;

/// <summary>Every kind of bad json gives a <see cref="CocoFormatException"/> naming the file, the place and the problem.</summary>
public sealed class BadInputTests : IDisposable
{
    private readonly string _dir = TestData.TempDir("badjson");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private const string Images = """[{"id": 1, "width": 640, "height": 480, "file_name": "a.jpg"}, {"id": 2, "width": 640, "height": 480, "file_name": "b.jpg"}]""";
    private const string Categories = """[{"id": 1, "name": "cat"}, {"id": 5, "name": "dog"}]""";
    private const string Ann0 = """{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 2, 30, 40], "area": 1200, "iscrowd": 0}""";

    private string Write(string name, string json)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, json);
        return path;
    }

    private static string Gt(string annotations = "[" + Ann0 + "]", string images = Images, string categories = Categories) =>
        $$"""{"images": {{images}}, "annotations": {{annotations}}, "categories": {{categories}}}""";

    private CocoFormatException GtError(string json)
    {
        string path = Write("gt.json", json);
        var ex = Assert.Throws<CocoFormatException>(() => CocoDataset.Load(path));
        Assert.StartsWith(path + ": ", ex.Message);
        return ex;
    }

    private CocoFormatException ResultsError(string json)
    {
        var gt = CocoDataset.Load(Write("gt.json", Gt()));
        string path = Write("dt.json", json);
        var ex = Assert.Throws<CocoFormatException>(() => CocoResults.Load(path, gt));
        Assert.StartsWith(path + ": ", ex.Message);
        return ex;
    }

    [Fact]
    public void ValidFilesLoad()
    {
        var gt = CocoDataset.Load(Write("gt.json", Gt()));
        Assert.Equal(2, gt.Images.Count);
        Assert.Single(CocoResults.Load(Write("dt.json", """[{"image_id": 2, "category_id": 5, "bbox": [1, 1, 2, 2], "score": 0.5}]"""), gt));
    }

    [Fact]
    public void MalformedJsonNamesLineAndByte()
    {
        var ex = GtError("{\n  \"images\": [\n    {\"id\": 1,, }\n  ]\n}");
        Assert.Equal("line 3, byte 14", ex.Location);
        Assert.Contains("malformed JSON", ex.Message);
    }

    [Fact]
    public void TruncatedJsonIsMalformed()
    {
        var ex = GtError(Gt()[..40]);
        Assert.StartsWith("line 1, byte", ex.Location);
    }

    [Fact]
    public void NaNLiteralsGetAHint()
    {
        var ex = ResultsError("""[{"image_id": 1, "category_id": 1, "bbox": [1, 1, NaN, 2], "score": 0.5}]""");
        Assert.Contains("NaN and Infinity are not JSON", ex.Message);
    }

    [Theory]
    [InlineData("""[{"id": 1, "height": 480, "file_name": "a.jpg"}]""", "images[0]", "missing required field 'width'")]
    [InlineData("""[{"id": 1, "width": 640, "height": 480}]""", "images[0]", "missing required field 'file_name'")]
    [InlineData("""[{"id": "1", "width": 640, "height": 480, "file_name": "a.jpg"}]""", "images[0].id", "expected an integer")]
    [InlineData("""[{"id": 1, "width": 0, "height": 480, "file_name": "a.jpg"}]""", "images[0]", "width and height must be positive")]
    public void BadImages(string images, string location, string problem)
    {
        var ex = GtError(Gt(annotations: "[]", images: images));
        Assert.Equal(location, ex.Location);
        Assert.Contains(problem, ex.Problem);
    }

    [Theory]
    [InlineData("""{"id": 2, "image_id": 1, "category_id": 1, "area": 5}""", "annotations[1]", "missing required field 'bbox'")]
    [InlineData("""{"id": 2, "image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4]}""", "annotations[1]", "missing required field 'area'")]
    [InlineData("""{"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "area": 5}""", "annotations[1]", "missing required field 'id'")]
    [InlineData("""{"id": 2, "image_id": 1, "category_id": 1, "bbox": [1, 2, 3], "area": 5}""", "annotations[1].bbox", "expected 4 numbers")]
    [InlineData("""{"id": 2, "image_id": 1, "category_id": 1, "bbox": [1, 2, "3", 4], "area": 5}""", "annotations[1].bbox[2]", "expected a number")]
    [InlineData("""{"id": 2, "image_id": 1, "category_id": 1, "bbox": [1, 2, 0, 4], "area": 5}""", "annotations[1].bbox", "width and height > 0")]
    [InlineData("""{"id": 2, "image_id": 1, "category_id": 1, "bbox": [1, 2, 3, -4], "area": 5}""", "annotations[1].bbox", "width and height > 0")]
    [InlineData("""{"id": 2, "image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "area": -5}""", "annotations[1].area", "must be a finite number >= 0")]
    [InlineData("""{"id": 2, "image_id": 9, "category_id": 1, "bbox": [1, 2, 3, 4], "area": 5}""", "annotations[1].image_id", "unknown image id 9")]
    [InlineData("""{"id": 2, "image_id": 1, "category_id": 2, "bbox": [1, 2, 3, 4], "area": 5}""", "annotations[1].category_id", "unknown category id 2")]
    [InlineData("""{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "area": 5}""", "annotations[1].id", "duplicate annotation id 1 (also annotations[0])")]
    [InlineData("""{"id": 2, "image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "area": 5, "iscrowd": 2}""", "annotations[1].iscrowd", "expected 0, 1, true or false")]
    public void BadAnnotations(string second, string location, string problem)
    {
        var ex = GtError(Gt(annotations: $"[{Ann0}, {second}]"));
        Assert.Equal(location, ex.Location);
        Assert.Contains(problem, ex.Problem);
    }

    [Fact]
    public void DuplicateImageIds()
    {
        var ex = GtError(Gt(annotations: "[]", images: """[{"id": 3, "width": 1, "height": 1, "file_name": "a"}, {"id": 3, "width": 1, "height": 1, "file_name": "b"}]"""));
        Assert.Equal("images[1].id", ex.Location);
        Assert.Contains("duplicate image id 3 (also images[0])", ex.Problem);
    }

    [Fact]
    public void DuplicateCategoryIds()
    {
        var ex = GtError(Gt(annotations: "[]", categories: """[{"id": 1, "name": "a"}, {"id": 1, "name": "b"}]"""));
        Assert.Equal("categories[1].id", ex.Location);
        Assert.Contains("duplicate category id 1", ex.Problem);
    }

    [Fact]
    public void MissingTopLevelList()
    {
        var ex = GtError("""{"images": [], "annotations": []}""");
        Assert.Contains("missing required field 'categories'", ex.Problem);
    }

    [Fact]
    public void GroundTruthMustBeAnObject() =>
        Assert.Contains("expected a COCO json object", GtError("[]").Problem);

    [Fact]
    public void MissingFileIsNamed()
    {
        string path = Path.Combine(_dir, "nope.json");
        var ex = Assert.Throws<CocoFormatException>(() => CocoDataset.Load(path));
        Assert.Equal($"{path}: file not found", ex.Message);
    }

    [Theory]
    [InlineData("""[{"image_id": 7, "category_id": 1, "bbox": [1, 1, 2, 2], "score": 0.5}]""", "[0].image_id", "image id 7 is not in the ground truth")]
    [InlineData("""[{"image_id": 1, "category_id": 1, "bbox": [1, 1, 2, 2], "score": 0.5}, {"image_id": 1, "category_id": 3, "bbox": [1, 1, 2, 2], "score": 0.5}]""", "[1].category_id", "category id 3 is not in the ground truth")]
    [InlineData("""[{"image_id": 1, "category_id": 1, "bbox": [1, 1, 2, 2]}]""", "[0]", "missing required field 'score'")]
    [InlineData("""[{"image_id": 1, "category_id": 1, "score": 0.5}]""", "[0]", "missing required field 'bbox'")]
    [InlineData("""[{"image_id": 1, "category_id": 1, "bbox": [1, 1, -2, 2], "score": 0.5}]""", "[0].bbox", "width and height >= 0")]
    [InlineData("""[{"image_id": 1, "category_id": 1, "bbox": [1, 1, 2, -0.5], "score": 0.5}]""", "[0].bbox", "width and height >= 0")]
    [InlineData("""[{"image_id": 1, "category_id": 1, "bbox": [1, 1, 2, 2], "score": "high"}]""", "[0].score", "expected a finite number")]
    [InlineData("""{"image_id": 1}""", "", "expected a COCO results list")]
    public void BadResults(string json, string location, string problem)
    {
        var ex = ResultsError(json);
        Assert.Equal(location, ex.Location);
        Assert.Contains(problem, ex.Problem);
    }

    [Fact]
    public void NaNBoxSizesAndScoresInMemoryAreRejected()
    {
        var gt = CocoDataset.Load(Write("gt.json", Gt()));
        var nanBox = new CocoResult(1, 1, new CocoBox(1, 1, double.NaN, 2), 0.5);
        var ex = Assert.Throws<CocoFormatException>(() => CocoResults.Validate([nanBox], gt, "mine"));
        Assert.Equal("mine: [0].bbox: box [x, y, w, h] = [1, 1, NaN, 2] must be finite with width and height >= 0", ex.Message);
        var nanScore = new CocoResult(1, 1, new CocoBox(1, 1, 2, 2), double.NaN);
        Assert.Equal("[0].score", Assert.Throws<CocoFormatException>(() => CocoResults.Validate([nanScore], gt)).Location);
        var badGt = new CocoAnnotation(1, 1, 1, new CocoBox(0, 0, 5, double.NaN), 3);
        Assert.Equal("annotations[0].bbox",
            Assert.Throws<CocoFormatException>(() => new CocoDataset(gt.Images, [badGt], gt.Categories)).Location);
    }

    [Fact]
    public void EvaluateValidatesInMemoryResultsToo()
    {
        var gt = CocoDataset.Load(Write("gt.json", Gt()));
        var ex = Assert.Throws<CocoFormatException>(() =>
            Nanoq.Coco.Evaluation.CocoEvaluator.Evaluate(gt, [new CocoResult(42, 1, new CocoBox(1, 1, 2, 2), 0.5)]));
        Assert.Equal("[0].image_id", ex.Location);
    }

    [Fact]
    public void ALoneSurrogateEscapeIsAnErrorNamingThePlace()
    {
        // Found by the fuzz tests (coco-json, seed 19): "\ud800" is valid JSON syntax but no text; System.Text.Json
        // threw InvalidOperationException only when the name was looked up.
        var ex = GtError(Gt(annotations: """[{"id": 1, "image_id": 1, "category_\ud800id": 1, "bbox": [1, 2, 3, 4], "area": 5}]"""));
        Assert.Equal("annotations[0]", ex.Location);
        Assert.StartsWith("a string is not valid text", ex.Problem);
        var name = GtError(Gt(images: """[{"id": 1, "width": 640, "height": 480, "file_name": "a\ud800.jpg"}]""", annotations: "[]"));
        Assert.Equal("images[0]", name.Location);
        var dt = ResultsError("""[{"image_id": 1, "category_id": 1, "bbox": [1, 1, 2, 2], "score": 0.5, "x\udc00": 1}, {"image_id\ud800": 1}]""");
        Assert.Equal("[1]", dt.Location);
    }

    [Fact]
    public void InvalidUtf8IsAnErrorWithItsPosition()
    {
        string path = Path.Combine(_dir, "latin1.json");
        File.WriteAllBytes(path, [.. Encoding.UTF8.GetBytes("{\n  \"images\": [{\"file_name\": \"caf"), 0xE9, .. Encoding.UTF8.GetBytes(".jpg\"}]}")]);
        var ex = Assert.Throws<CocoFormatException>(() => CocoDataset.Load(path));
        Assert.Equal($"{path}: line 2, byte 32: not valid UTF-8 text", ex.Message);
    }
}
