namespace Nanoq.Coco.Tests;

/// <summary>Paths of the test data copied next to the test binaries, and scratch folders.</summary>
internal static class TestData
{
    public static string Root => Path.Combine(AppContext.BaseDirectory, "data");

    public static string CocoEval(string caseName, string file) => Path.Combine(Root, "cocoeval", caseName, file);

    public static IEnumerable<string> CocoEvalCases() =>
        Directory.GetDirectories(Path.Combine(Root, "cocoeval")).Select(Path.GetFileName).Order()!;

    /// <summary>A fresh empty folder under the temp dir; callers delete it (or leave it to the OS).</summary>
    public static string TempDir(string prefix)
    {
        string dir = Path.Combine(Path.GetTempPath(), $"nanoq-coco-{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }
}
