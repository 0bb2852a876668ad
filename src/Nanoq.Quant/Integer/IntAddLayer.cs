using System.Text.Json;
using Nanoq.Kernels.Integer;

namespace Nanoq.Quant.Integer;

/// <summary>
/// One quantized add layer (an <c>AddUnit</c> after conversion: residual or FPN top-down add with its activation as
/// the clamp). All its constants are integers in the JSON object (<see cref="WriteJson"/>): <c>{"name", "op": "add",
/// "a": [z, M0, shift], "b": [z, M0, shift], "output": [M0, shift, z], "clamp": [lo, hi], "left_shift"}</c>.
/// </summary>
public sealed class IntAddLayer
{
    public IntAddLayer(string name, QuantizedAddParams parameters)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Name = name;
        Parameters = parameters;
    }

    public string Name { get; }
    public QuantizedAddParams Parameters { get; }

    public void Forward(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, Span<byte> output) => QuantizedAdd.Forward(a, b, Parameters, output);

    public AddTrace Trace(int a, int b) => IntAudit.Add(a, b, Parameters);

    public void WriteJson(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        WriteProperties(w);
        w.WriteEndObject();
    }

    public void WriteProperties(Utf8JsonWriter w)
    {
        w.WriteString("name", Name);
        w.WriteString("op", "add");
        WriteAttributes(w);
    }

    /// <summary>The attributes alone (no name and op), for a program op that writes those itself.</summary>
    public void WriteAttributes(Utf8JsonWriter w)
    {
        var p = Parameters;
        Triple(w, "a", p.ZeroPointA, p.MultiplierA, p.ShiftA);
        Triple(w, "b", p.ZeroPointB, p.MultiplierB, p.ShiftB);
        Triple(w, "output", p.OutputMultiplier, p.OutputShift, p.OutputZeroPoint);
        w.WriteStartArray("clamp");
        w.WriteNumberValue(p.ClampMin);
        w.WriteNumberValue(p.ClampMax);
        w.WriteEndArray();
        w.WriteNumber("left_shift", p.LeftShift);
    }

    public static IntAddLayer Read(JsonElement layer)
    {
        string name = LayerJson.String(layer, "name");
        var a = Triple(layer, "a", name);
        var b = Triple(layer, "b", name);
        var y = Triple(layer, "output", name);
        var (lo, hi) = LayerJson.Pair(layer, "clamp", name);
        return new IntAddLayer(name, new QuantizedAddParams(a[0], a[1], a[2], b[0], b[1], b[2], y[0], y[1], y[2], lo, hi,
            LayerJson.Int(layer, "left_shift", name)));
    }

    private static void Triple(Utf8JsonWriter w, string key, int x, int y, int z)
    {
        w.WriteStartArray(key);
        w.WriteNumberValue(x);
        w.WriteNumberValue(y);
        w.WriteNumberValue(z);
        w.WriteEndArray();
    }

    private static int[] Triple(JsonElement o, string key, string layer)
    {
        if (o.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Array && v.GetArrayLength() == 3
            && v[0].TryGetInt32(out int x) && v[1].TryGetInt32(out int y) && v[2].TryGetInt32(out int z))
            return [x, y, z];
        throw new FormatException($"Integer layer '{layer}': \"{key}\" must be an array of three integers.");
    }
}
