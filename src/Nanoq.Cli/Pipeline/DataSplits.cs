using Nanoq.Coco;
using Nanoq.Coco.Data;
using Nanoq.Coco.Datasets;

namespace Nanoq.Cli.Pipeline;

/// <summary>
/// The train and val folders a command works on. <c>--data</c> is a bundled data set's name (<c>shapes</c>,
/// <c>fashion-det</c>; written on first use under the cache folder, deterministic from the seed) or a folder in one of
/// two layouts:
/// <list type="bullet">
/// <item>the bundled one: <c>DIR/train/images</c> + <c>DIR/train/instances.json</c>, the same for <c>val</c>;</item>
/// <item>COCO's own, as torchvision's <c>CocoDetection(root, annFile)</c> and detectron2's <c>register_coco_instances</c>
/// take it: <c>DIR/annotations/instances_&lt;split&gt;*.json</c> with the images in <c>DIR/&lt;split&gt;*/</c> named
/// as the json's suffix (<c>instances_train2017.json</c> → <c>train2017/</c>; also <c>DIR/images/train2017/</c>).</item>
/// </list>
/// Or the four files are named outright (<see cref="FromFiles"/>: <c>--train-images --train-json --val-images
/// --val-json</c>). Category ids need not be contiguous: labels are the categories' order in the json.
/// </summary>
public sealed record DataSplits(CocoFolder Train, CocoFolder Val, string Description)
{
    /// <summary>
    /// Training and calibration skip images that fail to decode (logged once each, counted) instead of stopping:
    /// <c>--skip-bad-images</c>. Evaluation never skips: a val image it cannot read is an error.
    /// </summary>
    public bool SkipBadImages { get; init; }

    /// <summary>
    /// The splits labelled as the model labels them: unchanged for a model whose labels are the data's categories, else
    /// by the model's own category ids (<see cref="RunFolder.ModelInfo.CategoryIds"/>), refusing data with a category
    /// the model has no class for.
    /// </summary>
    public DataSplits ForModel(RunFolder.ModelInfo info) => info.Categories is { } map
        ? this with { Train = Train.WithCategories(map, Train.ImagesDirectory), Val = Val.WithCategories(map, Val.ImagesDirectory) }
        : this;

    /// <summary>Default sizes of the bundled sets: enough images to train the small detector in minutes.</summary>
    public const int DefaultTrainImages = 3000, DefaultValImages = 500, DefaultImageSize = 160;

    public static DataSplits Resolve(string data, string cacheRoot, TextWriter log, int trainImages = DefaultTrainImages,
                                     int valImages = DefaultValImages, int imageSize = DefaultImageSize, ulong seed = 0)
    {
        if (BundledDatasets.Names.Contains(data))
        {
            string dir = Path.Combine(cacheRoot, $"{data}-{imageSize}px-{trainImages}-{valImages}-seed{seed}");
            if (!File.Exists(Path.Combine(dir, "val", "instances.json")))
            {
                log.WriteLine($"writing the bundled data set '{data}' ({trainImages} train / {valImages} val images, {imageSize} px) to {dir}");
                string tmp = dir + ".partial";
                if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
                BundledDatasets.Write(BundledDatasets.Create(data, imageSize, seed), tmp, trainImages, valImages, seed);
                if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
                Directory.Move(tmp, dir); // a half-written set never looks complete
            }
            return new DataSplits(CocoFolder.OpenLayout(Path.Combine(dir, "train")), CocoFolder.OpenLayout(Path.Combine(dir, "val")), $"{data} ({dir})");
        }
        if (!Directory.Exists(data))
            throw new CocoFormatException(data, "", $"--data is neither a bundled data set ({string.Join(", ", BundledDatasets.Names)}) nor an existing folder");
        if (File.Exists(Path.Combine(data, "train", "instances.json")) && File.Exists(Path.Combine(data, "val", "instances.json")))
            return new DataSplits(CocoFolder.OpenLayout(Path.Combine(data, "train")), CocoFolder.OpenLayout(Path.Combine(data, "val")), data);
        var train = StandardSplit(data, "train");
        var val = StandardSplit(data, "val");
        if (train is not null && val is not null)
            return FromFiles(train.Value.Images, train.Value.Json, val.Value.Images, val.Value.Json) with { Description = data };
        throw new CocoFormatException(data, "",
            "no data set found: looked for train/instances.json and val/instances.json (with train/images, val/images), and for " +
            $"annotations/instances_train*.json and annotations/instances_val*.json (with train*/ and val*/ image folders){Found(data)}; " +
            "or name the files with --train-images --train-json --val-images --val-json");
    }

    /// <summary>The four paths named outright; each must exist (the error names the one that does not).</summary>
    public static DataSplits FromFiles(string trainImages, string trainJson, string valImages, string valJson)
    {
        foreach (var (dir, what) in new[] { (trainImages, "--train-images"), (valImages, "--val-images") })
            if (!Directory.Exists(dir)) throw new CocoFormatException(dir, "", $"{what}: no such folder");
        foreach (var (json, what) in new[] { (trainJson, "--train-json"), (valJson, "--val-json") })
            if (!File.Exists(json)) throw new CocoFormatException(json, "", $"{what}: no such file");
        return new DataSplits(CocoFolder.Open(trainImages, trainJson), CocoFolder.Open(valImages, valJson), $"{trainJson} + {valJson}");
    }

    /// <summary>COCO's layout for one split: the one annotations/instances_&lt;split&gt;*.json and its image folder; null when absent.</summary>
    private static (string Images, string Json)? StandardSplit(string dir, string split)
    {
        string annotations = Path.Combine(dir, "annotations");
        if (!Directory.Exists(annotations)) return null;
        var jsons = Directory.GetFiles(annotations, $"instances_{split}*.json").Order(StringComparer.Ordinal).ToArray();
        if (jsons.Length == 0) return null;
        if (jsons.Length > 1)
            throw new CocoFormatException(annotations, "", $"{jsons.Length} files match instances_{split}*.json ({string.Join(", ", jsons.Select(Path.GetFileName))}); name one with --{split}-json and --{split}-images");
        string name = Path.GetFileNameWithoutExtension(jsons[0])["instances_".Length..]; // train2017
        foreach (var images in new[] { Path.Combine(dir, name), Path.Combine(dir, "images", name) })
            if (Directory.Exists(images)) return (images, jsons[0]);
        throw new CocoFormatException(jsons[0], "", $"its images are not in {Path.Combine(dir, name)}/ nor in {Path.Combine(dir, "images", name)}/; name the folder with --{split}-images");
    }

    private static string Found(string dir)
    {
        var entries = Directory.EnumerateFileSystemEntries(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal).Take(8).ToArray();
        return entries.Length == 0 ? " (the folder is empty)" : $" (the folder holds: {string.Join(", ", entries)})";
    }
}
