using System.Text;
using System.Text.Json;

namespace Nanoq.Coco;

/// <summary>
/// Reads COCO json (ground truth and results) with System.Text.Json's DOM, walking it by hand so that every
/// error names the file and the json path. Unknown fields are ignored (COCO files carry many); segmentations are
/// not read (bbox evaluation only).
/// </summary>
internal static class CocoJsonReader
{
    public static CocoDataset ReadDataset(string path) => ParseDataset(ReadBytes(path), path);

    public static CocoDataset ParseDataset(byte[] utf8, string source)
    {
        using var doc = ParseDocument(utf8, source);
        var f = new JsonFields(source);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
            throw f.Error("", $"expected a COCO json object with images, annotations and categories, got {JsonFields.Describe(root)}");

        var root0 = JsonItem.Root;
        var imagesJson = f.RequiredArray(root, "images"u8, root0);
        var images = new List<CocoImage>(imagesJson.GetArrayLength());
        int i = 0;
        foreach (var e in imagesJson.EnumerateArray())
        {
            var at = new JsonItem("images", i++);
            images.Add(new CocoImage(f.Id(e, "id"u8, at), f.Int(e, "width"u8, at), f.Int(e, "height"u8, at), f.String(e, "file_name"u8, at)));
        }

        var categoriesJson = f.RequiredArray(root, "categories"u8, root0);
        var categories = new List<CocoCategory>(categoriesJson.GetArrayLength());
        i = 0;
        foreach (var e in categoriesJson.EnumerateArray())
        {
            var at = new JsonItem("categories", i++);
            long id = f.Id(e, "id"u8, at);
            string name = f.String(e, "name"u8, at);
            string? super = JsonFields.Optional(e, "supercategory"u8) is { ValueKind: JsonValueKind.String } s ? s.GetString() : null;
            categories.Add(new CocoCategory(id, name, super));
        }

        var annotationsJson = f.RequiredArray(root, "annotations"u8, root0);
        var annotations = new List<CocoAnnotation>(annotationsJson.GetArrayLength());
        i = 0;
        foreach (var e in annotationsJson.EnumerateArray())
        {
            var at = new JsonItem("annotations", i++);
            long id = f.Id(e, "id"u8, at);
            long imageId = f.Id(e, "image_id"u8, at);
            long categoryId = f.Id(e, "category_id"u8, at);
            var box = f.Box(e, "bbox"u8, at);
            // 'area' is required: COCO evaluation's area ranges read it, and a silent default would change results.
            double area = f.Number(e, "area"u8, at);
            // 'iscrowd' may be absent; pycocotools' ignore rule reads an absent one as 0.
            bool crowd = JsonFields.Optional(e, "iscrowd"u8) is { } c && f.Flag(c, "iscrowd"u8, at);
            annotations.Add(new CocoAnnotation(id, imageId, categoryId, box, area, crowd));
        }

        string? info = root.TryGetProperty("info", out var infoJson) && infoJson.ValueKind == JsonValueKind.Object
            ? infoJson.GetRawText() : null;
        return new CocoDataset(images, annotations, categories, source, info);
    }

    public static List<CocoResult> ReadResults(string path, CocoDataset groundTruth) =>
        ParseResults(ReadBytes(path), path, groundTruth);

    public static List<CocoResult> ParseResults(byte[] utf8, string source, CocoDataset groundTruth)
    {
        using var doc = ParseDocument(utf8, source);
        var f = new JsonFields(source);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Array)
            throw f.Error("", $"expected a COCO results list [{{image_id, category_id, bbox, score}}, ...], got {JsonFields.Describe(root)}");
        var results = new List<CocoResult>(root.GetArrayLength());
        int i = 0;
        foreach (var e in root.EnumerateArray())
        {
            var at = new JsonItem("", i++);
            results.Add(new CocoResult(f.Id(e, "image_id"u8, at), f.Id(e, "category_id"u8, at), f.Box(e, "bbox"u8, at), f.Number(e, "score"u8, at)));
        }
        CocoResults.Validate(results, groundTruth, source);
        return results;
    }

    internal static byte[] ReadBytes(string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new CocoFormatException(path, "", "file not found", ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CocoFormatException(path, "", $"cannot read the file: {ex.Message}", ex);
        }
    }

    private static JsonDocument ParseDocument(byte[] utf8, string source)
    {
        int start = utf8.Length >= 3 && utf8[0] == 0xEF && utf8[1] == 0xBB && utf8[2] == 0xBF ? 3 : 0;
        try
        {
            return JsonDocument.Parse(utf8.AsMemory(start), new JsonDocumentOptions { MaxDepth = 256 });
        }
        catch (JsonException ex)
        {
            long line = (ex.LineNumber ?? 0) + 1, column = (ex.BytePositionInLine ?? 0) + 1;
            string message = ex.Message;
            int cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
            if (cut > 0) message = message[..cut];
            if (StartsWithNonFinite(utf8, start, ex.LineNumber ?? 0, ex.BytePositionInLine ?? 0))
                message += " (NaN and Infinity are not JSON; Python's json.dump writes them for non-finite floats)";
            throw new CocoFormatException(source, $"line {line}, byte {column}", $"malformed JSON: {message}", ex);
        }
    }

    private static bool StartsWithNonFinite(byte[] utf8, int start, long line, long byteInLine)
    {
        int pos = start;
        for (long l = 0; l < line && pos < utf8.Length; pos++)
            if (utf8[pos] == (byte)'\n') l++;
        long at = pos + byteInLine;
        if (at < 0 || at >= utf8.Length) return false;
        var rest = Encoding.UTF8.GetString(utf8, (int)at, (int)Math.Min(10, utf8.Length - at));
        return rest.StartsWith("NaN", StringComparison.Ordinal) || rest.StartsWith("Infinity", StringComparison.Ordinal)
            || rest.StartsWith("-Infinity", StringComparison.Ordinal);
    }
}
