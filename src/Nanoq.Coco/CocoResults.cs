namespace Nanoq.Coco;

/// <summary>
/// COCO results files (a json list of <c>{image_id, category_id, bbox, score}</c>): reading with validation
/// against the ground truth, and writing.
/// </summary>
public static class CocoResults
{
    /// <summary>
    /// Reads a results file and checks it against <paramref name="groundTruth"/>, streaming (one element at a time), so
    /// a results file of any size costs about its own size in memory.
    /// </summary>
    public static IReadOnlyList<CocoResult> Load(string path, CocoDataset groundTruth) =>
        CocoJsonReader.ReadResults(path, groundTruth);

    /// <summary>Parses results json text; <paramref name="sourceName"/> is what error messages call it.</summary>
    public static IReadOnlyList<CocoResult> Parse(string json, CocoDataset groundTruth, string sourceName = "<memory>") =>
        CocoJsonReader.ParseResults(System.Text.Encoding.UTF8.GetBytes(json), sourceName, groundTruth);

    /// <summary>Writes results as COCO json, atomically (temporary file, then rename).</summary>
    public static void Save(string path, IEnumerable<CocoResult> results) => CocoJsonWriter.WriteResults(path, results);

    /// <summary>Writes results as COCO json to a stream.</summary>
    public static void Write(Stream stream, IEnumerable<CocoResult> results) => CocoJsonWriter.WriteResults(stream, results);

    /// <summary>
    /// The checks pycocotools' loadRes makes (every result's image is in the ground truth) plus ours: a known
    /// category, a finite positive box and a finite score. Throws <see cref="CocoFormatException"/> with
    /// <c>[i].field</c> locations.
    /// </summary>
    public static void Validate(IReadOnlyList<CocoResult> results, CocoDataset groundTruth, string sourceName = "<results>")
    {
        for (int i = 0; i < results.Count; i++) ValidateOne(results[i], i, groundTruth, sourceName);
    }

    /// <summary>The checks of <see cref="Validate"/> for result <paramref name="i"/> alone (the streaming reader's per-element check).</summary>
    internal static void ValidateOne(CocoResult r, int i, CocoDataset groundTruth, string sourceName)
    {
        if (!groundTruth.TryGetImage(r.ImageId, out _))
            throw new CocoFormatException(sourceName, $"[{i}].image_id",
                $"image id {r.ImageId} is not in the ground truth {groundTruth.SourceName}");
        if (!groundTruth.HasCategory(r.CategoryId))
            throw new CocoFormatException(sourceName, $"[{i}].category_id",
                $"category id {r.CategoryId} is not in the ground truth {groundTruth.SourceName}");
        if (!r.Bbox.IsValidResult)
            throw new CocoFormatException(sourceName, $"[{i}].bbox", CocoDataset.ResultBoxProblem(r.Bbox));
        if (!double.IsFinite(r.Score))
            throw new CocoFormatException(sourceName, $"[{i}].score", $"must be a finite number, got {r.Score}");
    }
}
