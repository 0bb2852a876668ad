using Nanoq.IO;
using System.Text.Json;

namespace Nanoq.Coco;

/// <summary>
/// Writes COCO json with Utf8JsonWriter. Output is byte-for-byte deterministic (fixed field order, shortest
/// round-trip numbers), so data sets generated from one seed are identical files.
/// Writes to a path go through a temporary file and a rename, so a reader never sees half a file.
/// </summary>
internal static class CocoJsonWriter
{
    public static void WriteDataset(string path, CocoDataset ds) => AtomicFile.Write(path, s => WriteDataset(s, ds));

    public static void WriteDataset(Stream stream, CocoDataset ds)
    {
        using var w = new Utf8JsonWriter(stream);
        w.WriteStartObject();
        if (ds.InfoJson is not null)
        {
            w.WritePropertyName("info");
            w.WriteRawValue(ds.InfoJson);
        }
        w.WriteStartArray("images");
        foreach (var im in ds.Images)
        {
            w.WriteStartObject();
            w.WriteNumber("id", im.Id);
            w.WriteNumber("width", im.Width);
            w.WriteNumber("height", im.Height);
            w.WriteString("file_name", im.FileName);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("annotations");
        foreach (var a in ds.Annotations)
        {
            w.WriteStartObject();
            w.WriteNumber("id", a.Id);
            w.WriteNumber("image_id", a.ImageId);
            w.WriteNumber("category_id", a.CategoryId);
            WriteBox(w, a.Bbox);
            w.WriteNumber("area", a.Area);
            w.WriteNumber("iscrowd", a.IsCrowd ? 1 : 0);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("categories");
        foreach (var c in ds.Categories)
        {
            w.WriteStartObject();
            w.WriteNumber("id", c.Id);
            w.WriteString("name", c.Name);
            if (c.Supercategory is not null) w.WriteString("supercategory", c.Supercategory);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    public static void WriteResults(string path, IEnumerable<CocoResult> results) => AtomicFile.Write(path, s => WriteResults(s, results));

    public static void WriteResults(Stream stream, IEnumerable<CocoResult> results)
    {
        using var w = new Utf8JsonWriter(stream);
        w.WriteStartArray();
        foreach (var r in results)
        {
            w.WriteStartObject();
            w.WriteNumber("image_id", r.ImageId);
            w.WriteNumber("category_id", r.CategoryId);
            WriteBox(w, r.Bbox);
            w.WriteNumber("score", r.Score);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static void WriteBox(Utf8JsonWriter w, CocoBox b)
    {
        w.WriteStartArray("bbox");
        w.WriteNumberValue(b.X);
        w.WriteNumberValue(b.Y);
        w.WriteNumberValue(b.Width);
        w.WriteNumberValue(b.Height);
        w.WriteEndArray();
    }
}
