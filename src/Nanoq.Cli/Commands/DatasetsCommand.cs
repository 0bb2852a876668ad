using Nanoq.Coco;
using Nanoq.Coco.Datasets;

namespace Nanoq.Cli.Commands;

/// <summary><c>nanoq datasets --name shapes|fashion-det --out DIR [...]</c>: writes a bundled data set as COCO folders.</summary>
public static class DatasetsCommand
{
    public const int DefaultTrain = 2000, DefaultVal = 500, DefaultSize = 256;

    public const string Help =
        """
        Usage: nanoq datasets --name shapes|fashion-det --out DIR [--train N] [--val N] [--size S] [--seed K] [--fashion-dir PATH]

        Writes a bundled detection data set as two COCO folders, the same bytes for the same arguments:
          DIR/train/images/000001.png ...   DIR/train/instances.json
          DIR/val/images/000001.png ...     DIR/val/instances.json
        (file_name in instances.json is relative to images/; boxes are exact; area = box w*h.)

          --name NAME        shapes       procedurally drawn shapes (5 classes) on textured backgrounds; needs nothing installed
                             fashion-det  Fashion-MNIST garments (10 classes) pasted at several scales; train from the
                                          training images, val from t10k; needs the Debian package dataset-fashion-mnist
          --out DIR          output folder (created; existing files of the same names are replaced)
          --train N          training images (default 2000)
          --val N            validation images (default 500)
          --size S           image side in pixels, 32..4096 (default 256; COCO large objects need S >= 128)
          --seed K           random seed (default 0)
          --fashion-dir PATH where the Fashion-MNIST IDX files are (default /usr/share/datasets/fashion-mnist)
          --help             this text

        Exit codes: 0 ok, 2 bad usage or missing input (one line on stderr), 1 if the files cannot be written.
        """;

    private static readonly HashSet<string> Valued = ["--name", "--out", "--train", "--val", "--size", "--seed", "--fashion-dir"];
    private static readonly HashSet<string> Flags = ["--help", "-h"];

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) =>
        CommandErrors.Run("datasets", stderr, () =>
        {
            var cl = new CommandLine(args, Valued, Flags);
            if (cl.Has("--help") || cl.Has("-h"))
            {
                stdout.Write(Help);
                return CommandErrors.Ok;
            }
            string name = cl.Required("--name");
            if (!BundledDatasets.Names.Contains(name))
                throw new UsageException($"--name must be one of {string.Join(", ", BundledDatasets.Names)}, got '{name}'");
            string outDir = cl.Required("--out");
            int train = cl.Int("--train", DefaultTrain, 0, 10_000_000);
            int val = cl.Int("--val", DefaultVal, 0, 10_000_000);
            int size = cl.Int("--size", DefaultSize, 32, 4096);
            ulong seed = cl.ULong("--seed", 0);
            string fashionDir = cl.Get("--fashion-dir") ?? FashionMnist.DefaultDirectory;

            var generator = BundledDatasets.Create(name, size, seed, fashionDir);
            var (trainSet, valSet) = BundledDatasets.Write(generator, outDir, train, val, seed);
            Report(stdout, Path.Combine(outDir, "train"), trainSet);
            Report(stdout, Path.Combine(outDir, "val"), valSet);
            return CommandErrors.Ok;
        });

    private static void Report(TextWriter stdout, string dir, CocoDataset ds)
    {
        var (s, m, l) = BundledDatasets.SizeCounts(ds);
        stdout.WriteLine($"{dir}: {ds.Images.Count} images, {ds.Annotations.Count} objects (small {s}, medium {m}, large {l}), {ds.Categories.Count} categories");
    }
}
