using System.Text.Json;

namespace Nanoq.Detection.Tests.FasterRcnn;

/// <summary>Readers for the Faster R-CNN fixtures' nested arrays (one array per image) and their non-finite strings.</summary>
internal static class FixtureValues
{
    public static float Value(JsonElement v) => v.ValueKind == JsonValueKind.String
        ? v.GetString() switch { "Infinity" => float.PositiveInfinity, "-Infinity" => float.NegativeInfinity, _ => float.NaN }
        : (float)v.GetDouble();

    public static float[] FloatsAny(this JsonElement e, string field) => e.GetProperty(field).EnumerateArray().Select(Value).ToArray();

    public static float[][] PerImage(this JsonElement e, string field) =>
        e.GetProperty(field).EnumerateArray().Select(a => a.EnumerateArray().Select(Value).ToArray()).ToArray();

    public static int[][] IntsPerImage(this JsonElement e, string field) =>
        e.GetProperty(field).EnumerateArray().Select(a => a.EnumerateArray().Select(v => v.GetInt32()).ToArray()).ToArray();

    public static (int, int)[] Sizes(this JsonElement e, string field) =>
        e.GetProperty(field).EnumerateArray().Select(p => (p[0].GetInt32(), p[1].GetInt32())).ToArray();

    /// <summary>Close within rel·max(|e|, 1); infinities must match exactly.</summary>
    public static void Close(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what, double rel = 1e-5)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            if (float.IsInfinity(expected[i]) || float.IsNaN(expected[i]))
            {
                Assert.True(expected[i].Equals(actual[i]), $"{what}[{i}]: expected {expected[i]}, got {actual[i]}");
                continue;
            }
            double tol = rel * Math.Max(Math.Abs(expected[i]), 1.0);
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol, $"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R}");
        }
    }
}
