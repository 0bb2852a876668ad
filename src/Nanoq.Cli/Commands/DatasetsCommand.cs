using Nanoq.Coco;
using Nanoq.Coco.Datasets;

namespace Nanoq.Cli.Commands;

/// <summary><c>nanoq datasets --name shapes|fashion-det --out DIR [...]</c>: writes a bundled data set as COCO folders.</summary>
public static class DatasetsCommand
{
    public const int DefaultTrain = 2000, DefaultVal = 500, DefaultSize = 256;

    internal static readonly CliCommand Definition = new("datasets",
        """
        Usage: nanoq datasets --name shapes|fashion-det --out DIR [--train N] [--val N] [--size S] [--seed K] [--fashion-dir PATH]
        """,
        """
        Writes a bundled detection data set as two COCO folders, the same bytes for the same arguments:
          DIR/train/images/000001.png ...   DIR/train/instances.json
          DIR/val/images/000001.png ...     DIR/val/instances.json
        (file_name in instances.json is relative to images/; boxes are exact; area = box w*h.)
        Data sets: shapes       procedurally drawn shapes (5 classes) on textured backgrounds; needs nothing installed
                   fashion-det  Fashion-MNIST garments (10 classes) pasted at several scales; train from the training
                                images, val from t10k; needs the Debian package dataset-fashion-mnist
        """,
        spec =>
        {
            spec.Text("--name", "NAME", "shapes or fashion-det (required)");
            spec.Text("--out", "DIR", "output folder (required; created; existing files of the same names are replaced)");
            spec.Int("--train", "N", $"training images (default {DefaultTrain})", 0, 10_000_000);
            spec.Int("--val", "N", $"validation images (default {DefaultVal})", 0, 10_000_000);
            spec.Int("--size", "S", $"image side in pixels, 32..4096 (default {DefaultSize}; COCO large objects need S >= 128)", 32, 4096);
            spec.ULong("--seed", "K", "random seed (default 0)");
            spec.Text("--fashion-dir", "PATH", $"where the Fashion-MNIST IDX files are (default {FashionMnist.DefaultDirectory})");
        },
        (cl, stdout, stderr) =>
        {
            string name = cl.Required("--name");
            if (!BundledDatasets.Names.Contains(name))
                throw new UsageException($"--name must be one of {string.Join(", ", BundledDatasets.Names)}, got '{name}'");
            string outDir = cl.Required("--out");
            int train = cl.Int("--train", DefaultTrain);
            int val = cl.Int("--val", DefaultVal);
            int size = cl.Int("--size", DefaultSize);
            ulong seed = cl.ULong("--seed", 0);
            string fashionDir = cl.Get("--fashion-dir") ?? FashionMnist.DefaultDirectory;

            var generator = BundledDatasets.Create(name, size, seed, fashionDir);
            var (trainSet, valSet) = BundledDatasets.Write(generator, outDir, train, val, seed);
            Report(stdout, Path.Combine(outDir, "train"), trainSet);
            Report(stdout, Path.Combine(outDir, "val"), valSet);
            return CommandErrors.Ok;
        },
        "Exit codes: 0 ok, 2 bad usage or missing input (one line on stderr), 1 if the files cannot be written.");

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) => Definition.Run(args, stdout, stderr);

    private static void Report(TextWriter stdout, string dir, CocoDataset ds)
    {
        var (s, m, l) = BundledDatasets.SizeCounts(ds);
        stdout.WriteLine($"{dir}: {ds.Images.Count} images, {ds.Annotations.Count} objects (small {s}, medium {m}, large {l}), {ds.Categories.Count} categories");
    }
}
