using System.Text;

namespace Nanoq.Coco.Tests.Json;

/// <summary>
/// Issue 19: results files are read streaming — through a 64 KiB window, one element at a time — with the same error
/// messages as before (file, then <c>[i].field</c> or <c>line L, byte B</c>), wherever in the file the error sits.
/// </summary>
[Collection(MemoryMeasurements.Name)]
public sealed class StreamingResultsTests(Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = TestData.TempDir("stream");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static CocoDataset Gt() => CocoDataset.Parse(
        """{"images": [{"id": 1, "width": 640, "height": 480, "file_name": "a.jpg"}, {"id": 2, "width": 640, "height": 480, "file_name": "b.jpg"}], "annotations": [], "categories": [{"id": 1, "name": "cat"}, {"id": 5, "name": "dog"}]}""", "gt.json");

    private static List<CocoResult> Many(int n)
    {
        var rng = new Rng(4);
        return Enumerable.Range(0, n).Select(i => new CocoResult(1 + i % 2, i % 3 == 0 ? 5 : 1,
            new CocoBox(rng.Uniform(0, 600), rng.Uniform(0, 400), rng.Uniform(1, 40), rng.Uniform(1, 40)), rng.Uniform(0, 1))).ToList();
    }

    /// <summary>A stream that remembers the largest read asked of it.</summary>
    private sealed class Watched(Stream inner) : Stream
    {
        public int LargestRead { get; private set; }
        public override int Read(byte[] buffer, int offset, int count) { LargestRead = Math.Max(LargestRead, count); return inner.Read(buffer, offset, count); }
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    [Fact]
    public void ALargeFileIsReadThroughASmallWindowAndRoundTrips()
    {
        var results = Many(40_000);
        string path = Path.Combine(_dir, "dt.json");
        CocoResults.Save(path, results);
        Assert.True(new FileInfo(path).Length > 1 << 20);
        using var watched = new Watched(File.OpenRead(path));
        var back = CocoJsonReader.ReadResults(watched, path, Gt());
        Assert.Equal(results, back);
        Assert.True(watched.LargestRead <= 1 << 16, $"largest read {watched.LargestRead}");
        Assert.Equal(results, CocoResults.Load(path, Gt()));
    }

    [Fact]
    public void TheResultsKeptAreAboutTheSizeOfTheFile()
    {
        // Peak memory = what is kept + the 64 KiB window + one element's garbage; measured here as what is kept.
        var results = Many(100_000);
        string path = Path.Combine(_dir, "dt.json");
        CocoResults.Save(path, results);
        results = null;
        long fileBytes = new FileInfo(path).Length;
        var gt = Gt();
        CocoResults.Load(path, gt); // warm up (JIT, pools)
        long before = GC.GetTotalMemory(forceFullCollection: true);
        var back = CocoResults.Load(path, gt);
        long kept = GC.GetTotalMemory(forceFullCollection: true) - before;
        Assert.Equal(100_000, back.Count);
        output.WriteLine($"kept {kept} bytes for a {fileBytes}-byte file ({(double)kept / fileBytes:F2}x)");
        Assert.True(kept < 2 * fileBytes, $"kept {kept} bytes for a {fileBytes}-byte file");
    }

    [Fact]
    public void AnElementLargerThanTheWindowIsRead()
    {
        string padding = new('x', 200_000);
        string json = $$"""[{"image_id": 1, "category_id": 1, "bbox": [1, 1, 2, 2], "score": 0.5, "note": "{{padding}}"}, {"image_id": 2, "category_id": 5, "bbox": [1, 1, 2, 2], "score": 0.25}]""";
        var back = CocoResults.Parse(json, Gt());
        Assert.Equal([1L, 2L], back.Select(r => r.ImageId));
    }

    [Fact]
    public void ErrorsFarIntoTheFileKeepTheirPlace()
    {
        var sb = new StringBuilder("[\n");
        for (int i = 0; i < 5000; i++) sb.Append("""{"image_id": 1, "category_id": 1, "bbox": [1, 1, 2, 2], "score": 0.5},""").Append('\n');
        string head = sb.ToString();
        var gt = Gt();

        var bad = Assert.Throws<CocoFormatException>(() => CocoResults.Parse(head + """{"image_id": 1, "category_id": 1, "bbox": [1, 1, 2, 2], "score": "high"}]""", gt, "dt.json"));
        Assert.Equal("dt.json: [5000].score: expected a finite number, got the string \"high\"", bad.Message);

        var malformed = Assert.Throws<CocoFormatException>(() => CocoResults.Parse(head + """{"image_id": 1,, "category_id": 1}]""", gt, "dt.json"));
        Assert.Equal("line 5002, byte 16", malformed.Location);
        Assert.StartsWith("malformed JSON", malformed.Problem);

        string path = Path.Combine(_dir, "nan.json");
        File.WriteAllText(path, head + """{"image_id": 1, "category_id": 1, "bbox": [1, 1, 2, 2], "score": NaN}]""");
        var nan = Assert.Throws<CocoFormatException>(() => CocoResults.Load(path, gt));
        Assert.Equal("line 5002, byte 66", nan.Location);
        Assert.Contains("NaN and Infinity are not JSON", nan.Problem);

        var truncated = Assert.Throws<CocoFormatException>(() => CocoResults.Parse(head, gt, "dt.json"));
        Assert.StartsWith("dt.json: ", truncated.Message);
    }

    [Theory]
    [InlineData("{}", "got an object")]
    [InlineData("3", "got a number")]
    [InlineData("\"x\"", "got a string")]
    [InlineData("null", "got null")]
    public void TheRootMustBeAList(string json, string got)
    {
        var ex = Assert.Throws<CocoFormatException>(() => CocoResults.Parse(json, Gt(), "dt.json"));
        Assert.Contains("expected a COCO results list", ex.Problem);
        Assert.Contains(got, ex.Problem);
    }

    [Fact]
    public void ByteOrderMarkEmptyListAndTrailingContent()
    {
        Assert.Empty(CocoJsonReader.ParseResults([0xEF, 0xBB, 0xBF, .. "[ ]\n"u8], "dt.json", Gt()));
        var ex = Assert.Throws<CocoFormatException>(() => CocoResults.Parse("[] []", Gt(), "dt.json"));
        Assert.StartsWith("malformed JSON", ex.Problem);
        var utf8 = Assert.Throws<CocoFormatException>(() => CocoJsonReader.ParseResults(
            [.. """[{"image_id": 1, "category_id": 1, "bbox": [1, 1, 2, 2], "score": 0.5, "n": """u8, (byte)'"', 0xC3, (byte)'"', (byte)'}', (byte)']'], "dt.json", Gt()));
        Assert.Equal("[0]", utf8.Location);
    }
}

/// <summary>Tests that measure this process's memory run alone (xunit runs other collections in parallel).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MemoryMeasurements
{
    public const string Name = "memory measurements";
}
