namespace Nanoq.Coco;

/// <summary>
/// A COCO ground-truth file (instances json): images, annotations and categories, validated on construction so
/// that everything downstream may trust ids and boxes. Lists keep file order, which matters: pycocotools
/// matches ground truths of equal standing in file order.
/// </summary>
public sealed class CocoDataset
{
    private readonly Dictionary<long, CocoImage> _imagesById;
    private readonly Dictionary<long, CocoCategory> _categoriesById;
    private readonly Dictionary<long, List<CocoAnnotation>> _annotationsByImage;

    /// <summary>The file this came from, or <c>&lt;memory&gt;</c>; error messages name it.</summary>
    public string SourceName { get; }

    public IReadOnlyList<CocoImage> Images { get; }
    public IReadOnlyList<CocoAnnotation> Annotations { get; }
    public IReadOnlyList<CocoCategory> Categories { get; }

    /// <summary>The json text of the file's <c>info</c> object, kept so that a re-written file keeps it; null if absent.</summary>
    public string? InfoJson { get; }

    /// <summary>Builds and validates a data set; throws <see cref="CocoFormatException"/> naming <paramref name="sourceName"/>.</summary>
    public CocoDataset(
        IReadOnlyList<CocoImage> images,
        IReadOnlyList<CocoAnnotation> annotations,
        IReadOnlyList<CocoCategory> categories,
        string sourceName = "<memory>",
        string? infoJson = null)
    {
        SourceName = sourceName;
        Images = images;
        Annotations = annotations;
        Categories = categories;
        InfoJson = infoJson;

        _imagesById = new Dictionary<long, CocoImage>(images.Count);
        var imageIndex = new Dictionary<long, int>(images.Count);
        for (int i = 0; i < images.Count; i++)
        {
            var im = images[i];
            if (!imageIndex.TryAdd(im.Id, i))
                throw Error($"images[{i}].id", $"duplicate image id {im.Id} (also images[{imageIndex[im.Id]}])");
            if (im.Width <= 0 || im.Height <= 0)
                throw Error($"images[{i}]", $"width and height must be positive, got {im.Width}x{im.Height}");
            if (string.IsNullOrEmpty(im.FileName))
                throw Error($"images[{i}].file_name", "must be a non-empty string");
            if (FileNameProblem(im.FileName) is { } problem)
                throw Error($"images[{i}].file_name", $"image id {im.Id}: \"{Shorten(im.FileName)}\" {problem}");
            _imagesById[im.Id] = im;
        }

        _categoriesById = new Dictionary<long, CocoCategory>(categories.Count);
        var categoryIndex = new Dictionary<long, int>(categories.Count);
        for (int i = 0; i < categories.Count; i++)
        {
            var c = categories[i];
            if (!categoryIndex.TryAdd(c.Id, i))
                throw Error($"categories[{i}].id", $"duplicate category id {c.Id} (also categories[{categoryIndex[c.Id]}])");
            _categoriesById[c.Id] = c;
        }

        _annotationsByImage = new Dictionary<long, List<CocoAnnotation>>();
        var annotationIndex = new Dictionary<long, int>(annotations.Count);
        for (int i = 0; i < annotations.Count; i++)
        {
            var a = annotations[i];
            if (!annotationIndex.TryAdd(a.Id, i))
                throw Error($"annotations[{i}].id", $"duplicate annotation id {a.Id} (also annotations[{annotationIndex[a.Id]}])");
            if (!_imagesById.ContainsKey(a.ImageId))
                throw Error($"annotations[{i}].image_id", $"unknown image id {a.ImageId}");
            if (!_categoriesById.ContainsKey(a.CategoryId))
                throw Error($"annotations[{i}].category_id", $"unknown category id {a.CategoryId}");
            if (!a.Bbox.IsValid)
                throw Error($"annotations[{i}].bbox", BoxProblem(a.Bbox));
            if (!double.IsFinite(a.Area) || a.Area < 0)
                throw Error($"annotations[{i}].area", $"must be a finite number >= 0, got {a.Area}");
            if (!_annotationsByImage.TryGetValue(a.ImageId, out var list))
                _annotationsByImage[a.ImageId] = list = new List<CocoAnnotation>();
            list.Add(a);
        }
    }

    /// <summary>Reads and validates an instances json.</summary>
    public static CocoDataset Load(string path) => CocoJsonReader.ReadDataset(path);

    /// <summary>Parses json text; <paramref name="sourceName"/> is what error messages call it.</summary>
    public static CocoDataset Parse(string json, string sourceName = "<memory>") =>
        CocoJsonReader.ParseDataset(System.Text.Encoding.UTF8.GetBytes(json), sourceName);

    /// <summary>Writes the data set as COCO json (atomically: a temporary file, then a rename).</summary>
    public void Save(string path) => CocoJsonWriter.WriteDataset(path, this);

    public bool TryGetImage(long id, out CocoImage image) => _imagesById.TryGetValue(id, out image!);

    public CocoImage Image(long id) => _imagesById.TryGetValue(id, out var im)
        ? im : throw new KeyNotFoundException($"{SourceName}: no image with id {id}");

    public bool HasCategory(long id) => _categoriesById.ContainsKey(id);

    public CocoCategory Category(long id) => _categoriesById.TryGetValue(id, out var c)
        ? c : throw new KeyNotFoundException($"{SourceName}: no category with id {id}");

    /// <summary>The annotations of one image, in file order (empty if none).</summary>
    public IReadOnlyList<CocoAnnotation> AnnotationsOf(long imageId) =>
        _annotationsByImage.TryGetValue(imageId, out var list) ? list : Array.Empty<CocoAnnotation>();

    /// <summary>
    /// Why a <c>file_name</c> could reach outside the images folder, or null when it cannot: it must be relative
    /// (no leading <c>/</c> or <c>\</c>, no drive letter) and have no <c>..</c> segment (not even one that seems to come
    /// back, as <c>a/../b</c> does not if <c>a</c> is a symbolic link), and no control characters. Both separators count,
    /// since a json written on Windows may use either. Subfolders (<c>train/0001.jpg</c>) are fine.
    /// </summary>
    internal static string? FileNameProblem(string name)
    {
        if (name.AsSpan().IndexOfAnyInRange('\0', '\u001f') >= 0)
            return "contains a control character";
        if (name[0] is '/' or '\\' || Path.IsPathRooted(name) || (name.Length >= 2 && name[1] == ':' && char.IsAsciiLetter(name[0])))
            return "is an absolute path; file names must be relative to the images folder";
        foreach (var segment in name.Split('/', '\\'))
            if (segment == "..")
                return "contains '..'; file names must stay inside the images folder";
        return null;
    }

    private static string Shorten(string s) => s.Length <= 80 ? s : s[..80] + "...";

    internal static string BoxProblem(CocoBox b) =>
        $"box [x, y, w, h] = [{b.X}, {b.Y}, {b.Width}, {b.Height}] must be finite with width and height > 0";

    /// <summary>A detection's box problem (<see cref="CocoBox.IsValidResult"/>).</summary>
    internal static string ResultBoxProblem(CocoBox b) =>
        $"box [x, y, w, h] = [{b.X}, {b.Y}, {b.Width}, {b.Height}] must be finite with width and height >= 0";

    private CocoFormatException Error(string location, string problem) => new(SourceName, location, problem);
}
