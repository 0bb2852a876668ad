using Nanoq.Cli.Pipeline;

namespace Nanoq.Cli.Commands;

/// <summary>
/// <c>--train-images DIR --train-json FILE --val-images DIR --val-json FILE</c>: a data set named file by file, for a
/// layout that neither of <see cref="DataSplits"/>'s folder layouts fits. All four or none.
/// </summary>
internal static class DataFileOptions
{
    private static readonly string[] Names = ["--train-images", "--train-json", "--val-images", "--val-json"];

    public static void Declare(CliSpec spec)
    {
        spec.Text("--train-images", "DIR", "instead of --data: the training images");
        spec.Text("--train-json", "FILE", "instead of --data: the training annotations (COCO instances json)");
        spec.Text("--val-images", "DIR", "instead of --data: the validation images");
        spec.Text("--val-json", "FILE", "instead of --data: the validation annotations");
    }

    /// <summary>The data set the four options name; null when none is given.</summary>
    public static DataSplits? Resolve(CommandArgs cl)
    {
        var given = Names.Where(cl.Has).ToArray();
        if (given.Length == 0) return null;
        if (given.Length < Names.Length)
            throw new UsageException($"{string.Join(", ", Names.Except(given))} missing: --train-images, --train-json, --val-images and --val-json go together");
        if (cl.Has("--data")) throw new UsageException("--data and --train-images/--train-json/--val-images/--val-json name the data twice; give one");
        return DataSplits.FromFiles(cl.Required("--train-images"), cl.Required("--train-json"), cl.Required("--val-images"), cl.Required("--val-json"));
    }
}
