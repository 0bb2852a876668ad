namespace Nanoq.Coco.Datasets;

/// <summary>
/// The bundled data sets by name, written as COCO folders: <c>OUT/train/{images/*.png, instances.json}</c> and
/// <c>OUT/val/{images/*.png, instances.json}</c>, deterministic from the seed.
/// </summary>
public static class BundledDatasets
{
    public static IReadOnlyList<string> Names { get; } = ["shapes", "fashion-det"];

    /// <summary>The generator of <paramref name="name"/>; fashion-det loads Fashion-MNIST from <paramref name="fashionMnistDirectory"/>.</summary>
    public static IImageGenerator Create(string name, int imageSize, ulong seed, string fashionMnistDirectory = FashionMnist.DefaultDirectory) =>
        name switch
        {
            "shapes" => new ShapesGenerator(imageSize, seed),
            "fashion-det" => new FashionDetGenerator(imageSize, seed, fashionMnistDirectory),
            _ => throw new ArgumentException($"unknown data set '{name}'; known: {string.Join(", ", Names)}", nameof(name)),
        };

    /// <summary>Writes the train and val splits under <paramref name="outDir"/>; returns both ground truths.</summary>
    public static (CocoDataset Train, CocoDataset Val) Write(IImageGenerator generator, string outDir, int trainImages, int valImages, ulong seed)
    {
        string desc = $"{generator.Name}, seed {seed}";
        var train = DatasetWriter.WriteSplit(Path.Combine(outDir, "train"), generator, DatasetSplit.Train, trainImages, desc + ", train");
        var val = DatasetWriter.WriteSplit(Path.Combine(outDir, "val"), generator, DatasetSplit.Val, valImages, desc + ", val");
        return (train, val);
    }

    /// <summary>Counts of COCO small / medium / large objects (by the <c>area</c> field), for reports and tests.</summary>
    public static (int Small, int Medium, int Large) SizeCounts(CocoDataset ds)
    {
        int s = 0, m = 0, l = 0;
        foreach (var a in ds.Annotations)
        {
            if (a.Area < 32 * 32) s++;
            else if (a.Area < 96 * 96) m++;
            else l++;
        }
        return (s, m, l);
    }
}
