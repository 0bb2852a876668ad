using System.Text.Json;

namespace Nanoq.Tests;

/// <summary>Reads the PyTorch fixtures written by tools/gen_torch_fixtures.py (committed under data/torch).</summary>
internal static class Fixture
{
    public static string PathOf(string name) => Path.Combine(AppContext.BaseDirectory, "data", "torch", name);

    public static JsonElement Json(string name) => JsonDocument.Parse(File.ReadAllBytes(PathOf(name))).RootElement;

    /// <summary>The cases of a fixture file that is an array; an empty one fails (a loop over no cases passes anything).</summary>
    public static List<JsonElement> Cases(string name)
    {
        var cases = Json(name).EnumerateArray().ToList();
        if (cases.Count == 0) throw new InvalidDataException($"{name} has no cases; regenerate the fixtures.");
        return cases;
    }

    public static float[] Floats(this JsonElement e, string field) =>
        e.GetProperty(field).EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();

    public static int[] Ints(this JsonElement e, string field) =>
        e.GetProperty(field).EnumerateArray().Select(v => v.GetInt32()).ToArray();

    public static int Int(this JsonElement e, string field) => e.GetProperty(field).GetInt32();

    /// <summary>max |a − b| / max(|b|, floor): a scale-aware relative error.</summary>
    public static double RelErr(ReadOnlySpan<float> a, ReadOnlySpan<float> b, double floor = 1e-6)
    {
        Assert.Equal(b.Length, a.Length);
        double maxDiff = 0, maxRef = floor;
        for (int i = 0; i < a.Length; i++)
        {
            maxDiff = Math.Max(maxDiff, Math.Abs((double)a[i] - b[i]));
            maxRef = Math.Max(maxRef, Math.Abs((double)b[i]));
        }
        return maxDiff / maxRef;
    }
}
