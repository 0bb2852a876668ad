using Nanoq.Coco;
using Nanoq.Coco.Data;
using Nanoq.Coco.Datasets;

namespace Nanoq.Cli.Pipeline;

/// <summary>
/// The train and val folders a command works on. <c>--data</c> is a bundled data set's name (<c>shapes</c>,
/// <c>fashion-det</c>; written on first use under the cache folder, deterministic from the seed) or a folder in the
/// bundled layout (<c>DIR/train/images</c> + <c>DIR/train/instances.json</c>, the same for <c>val</c>) — which is
/// what any COCO data set becomes with two links. Category ids need not be contiguous: labels are the categories'
/// order in the json.
/// </summary>
public sealed record DataSplits(CocoFolder Train, CocoFolder Val, string Description)
{
    /// <summary>
    /// Training and calibration skip images that fail to decode (logged once each, counted) instead of stopping:
    /// <c>--skip-bad-images</c>. Evaluation never skips: a val image it cannot read is an error.
    /// </summary>
    public bool SkipBadImages { get; init; }

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
        foreach (var split in new[] { "train", "val" })
        {
            string json = Path.Combine(data, split, "instances.json");
            if (!File.Exists(json))
                throw new CocoFormatException(json, "", $"missing: a data folder needs {split}/images and {split}/instances.json");
        }
        return new DataSplits(CocoFolder.OpenLayout(Path.Combine(data, "train")), CocoFolder.OpenLayout(Path.Combine(data, "val")), data);
    }
}
