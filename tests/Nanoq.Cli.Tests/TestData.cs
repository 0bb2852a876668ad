namespace Nanoq.Cli.Tests;

/// <summary>Paths of the test data copied next to the test binaries (the COCO fixtures are Coco.Tests' copy), and scratch folders.</summary>
internal static class TestData
{
    public static string Root => Path.Combine(AppContext.BaseDirectory, "data");

    public static string CocoEval(string caseName, string file) => Path.Combine(Root, "cocoeval", caseName, file);

    /// <summary>A fresh empty folder under the temp dir; callers delete it.</summary>
    public static string TempDir(string prefix)
    {
        string dir = Path.Combine(Path.GetTempPath(), $"nanoq-cli-{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }
}
