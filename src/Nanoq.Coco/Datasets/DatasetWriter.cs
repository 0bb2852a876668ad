using Nanoq.Coco.Imaging;

namespace Nanoq.Coco.Datasets;

/// <summary>
/// Writes generated images as a real COCO folder: <c>DIR/images/000001.png</c>… and <c>DIR/instances.json</c>
/// (image ids 1..N in order, <c>file_name</c> relative to <c>images/</c>, annotation ids 1..M, bbox [x, y, w, h] of the
/// tight box, area = w×h, iscrowd 0). Images are generated and encoded in parallel; the output does not depend on it.
/// </summary>
public static class DatasetWriter
{
    public static CocoDataset WriteSplit(string dir, IImageGenerator generator, DatasetSplit split, int count, string description)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        string imagesDir = Path.Combine(dir, "images");
        Directory.CreateDirectory(imagesDir);
        // Only what the json needs is kept; the pixels go to disk as soon as they are made.
        var boxes = new XyxyBox[count][];
        var categoryIds = new long[count][];
        var sizes = new (int W, int H)[count];
        Kernels.WorkSplit.Each(count, i =>
        {
            var g = generator.Generate(split, i);
            File.WriteAllBytes(Path.Combine(imagesDir, FileName(i)), ImageCodec.EncodePng(g.Image));
            (boxes[i], categoryIds[i], sizes[i]) = (g.Boxes, g.CategoryIds, (g.Image.Width, g.Image.Height));
        });

        var images = new List<CocoImage>(count);
        var annotations = new List<CocoAnnotation>();
        for (int i = 0; i < count; i++)
        {
            images.Add(new CocoImage(i + 1, sizes[i].W, sizes[i].H, FileName(i)));
            for (int j = 0; j < boxes[i].Length; j++)
            {
                var b = boxes[i][j];
                var box = new CocoBox(b.X1, b.Y1, b.Width, b.Height);
                annotations.Add(new CocoAnnotation(annotations.Count + 1, i + 1, categoryIds[i][j], box, box.Area));
            }
        }
        string info = System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["description"] = description,
            ["generator"] = "Nanoq.Coco " + generator.Name,
        });
        var ds = new CocoDataset(images, annotations, generator.Categories, Path.Combine(dir, "instances.json"), info);
        ds.Save(Path.Combine(dir, "instances.json"));
        return ds;
    }

    public static string FileName(int index) => $"{index + 1:D6}.png";
}
