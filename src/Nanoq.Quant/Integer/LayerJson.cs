using System.Text.Json;

namespace Nanoq.Quant.Integer;

/// <summary>Integer-only readers for the layer objects of an NQIM graph; errors name the layer and the property.</summary>
internal static class LayerJson
{
    public static string String(JsonElement o, string key) =>
        o.ValueKind == JsonValueKind.Object && o.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String
            ? v.GetString()!
            : throw new FormatException($"Integer layer: missing string \"{key}\" in {Clip(o.GetRawText())}.");

    public static int Int(JsonElement o, string key, string layer) =>
        o.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int r)
            ? r
            : throw new FormatException($"Integer layer '{layer}': missing integer \"{key}\".");

    public static (int, int) Pair(JsonElement o, string key, string layer)
    {
        if (o.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Array && v.GetArrayLength() == 2
            && v[0].TryGetInt32(out int a) && v[1].TryGetInt32(out int b))
            return (a, b);
        throw new FormatException($"Integer layer '{layer}': \"{key}\" must be an array of two integers.");
    }

    private static string Clip(string s) => s.Length <= 120 ? s : s[..120] + "…";
}
