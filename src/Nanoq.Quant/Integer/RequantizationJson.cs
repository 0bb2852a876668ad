using System.Text.Json;
using Nanoq.Kernels.Integer;

namespace Nanoq.Quant.Integer;

/// <summary>
/// How a conv or linear layer's <see cref="Requantization"/> is stored in an NQIM file, in one place for both: in the
/// layer's JSON object <c>"output_zero_point"</c>, <c>"clamp": [lo, hi]</c> and <c>"rounding": "double" | "single"</c>
/// (optional on reading: double), and among the tensors <c>{name}.multiplier</c> and <c>{name}.shift</c> (int32 per
/// output channel).
/// </summary>
internal static class RequantizationJson
{
    public static void Write(Utf8JsonWriter w, Requantization rq)
    {
        w.WriteNumber("output_zero_point", rq.OutputZeroPoint);
        w.WriteStartArray("clamp");
        w.WriteNumberValue(rq.ClampMin);
        w.WriteNumberValue(rq.ClampMax);
        w.WriteEndArray();
        w.WriteString("rounding", rq.Rounding == RequantRounding.Single ? "single" : "double");
    }

    public static IEnumerable<IntTensor> Tensors(string name, Requantization rq)
    {
        yield return IntTensor.Int32($"{name}.multiplier", rq.Multipliers);
        yield return IntTensor.Compact($"{name}.shift", rq.Shifts);
    }

    /// <summary>The requantization of layer <paramref name="name"/>; a missing or malformed part throws naming the layer.</summary>
    public static Requantization Read(IntModel model, JsonElement layer, string name)
    {
        var (lo, hi) = LayerJson.Pair(layer, "clamp", name);
        var rounding = layer.TryGetProperty("rounding", out var r) && r.ValueKind == JsonValueKind.String
            ? r.GetString() switch
            {
                "double" => RequantRounding.Double,
                "single" => RequantRounding.Single,
                var other => throw new FormatException($"Integer layer '{name}': unknown rounding \"{other}\"."),
            }
            : RequantRounding.Double;
        return new Requantization(model[$"{name}.multiplier"].AsInt32(), model[$"{name}.shift"].ToInt32(),
                                  LayerJson.Int(layer, "output_zero_point", name), lo, hi, rounding);
    }
}
