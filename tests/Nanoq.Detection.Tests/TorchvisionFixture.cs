using System.Text.Json;

namespace Nanoq.Detection.Tests;

/// <summary>
/// Reads the torchvision fixtures written by tools/gen_detection_fixtures.py (committed under data/torchvision).
/// Floats there are float32 values written as round-tripping doubles, so <c>(float)double</c> is exact.
/// </summary>
internal static class TorchvisionFixture
{
    public static string PathOf(string name) => Path.Combine(AppContext.BaseDirectory, "data", "torchvision", name);

    public static JsonElement Json(string name) => JsonDocument.Parse(File.ReadAllBytes(PathOf(name))).RootElement;

    /// <summary>The elements of the array <paramref name="field"/> of <paramref name="e"/>.</summary>
    /// An empty array fails: a loop over no fixture cases would pass whatever the code did.
    public static IEnumerable<JsonElement> Cases(this JsonElement e, string field)
    {
        var cases = e.GetProperty(field).EnumerateArray().ToList();
        if (cases.Count == 0) throw new InvalidDataException($"fixture field '{field}' has no cases; regenerate the fixtures.");
        return cases;
    }

    public static float[] Floats(this JsonElement e, string field) =>
        e.GetProperty(field).EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();

    public static int[] Ints(this JsonElement e, string field) =>
        e.GetProperty(field).EnumerateArray().Select(v => v.GetInt32()).ToArray();

    public static int Int(this JsonElement e, string field) => e.GetProperty(field).GetInt32();

    public static double Double(this JsonElement e, string field) => e.GetProperty(field).GetDouble();

    public static string Name(this JsonElement e) => e.TryGetProperty("name", out var n) ? n.GetString()! : "";

    /// <summary>Asserts |a − b| ≤ rel · max(|b|, floor) elementwise, naming the first offending index.</summary>
    public static void Close(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double rel, double floor = 1.0, string what = "")
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i];
            if (double.IsNaN(e) && double.IsNaN(a)) continue;
            double tol = rel * Math.Max(Math.Abs(e), floor);
            Assert.True(Math.Abs(a - e) <= tol, $"{what}[{i}]: expected {e:R}, got {a:R} (tolerance {tol:G3})");
        }
    }

    /// <summary>Asserts bitwise equality (NaN equals NaN), naming the first offending index.</summary>
    public static void Exact(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what = "")
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(expected[i].Equals(actual[i]) || (expected[i] == 0 && actual[i] == 0),
                        $"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R}");
    }
}
