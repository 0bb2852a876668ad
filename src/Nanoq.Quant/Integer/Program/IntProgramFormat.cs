using System.Text.Json;
using Nanoq.Quant.Integer;

namespace Nanoq.Quant.Integer.Program;

/// <summary>
/// How an <see cref="IntProgram"/> is stored in an NQIM file (<see cref="IntModelFile"/>, version 2): every op's integer
/// tensors under the op's name, and the graph as JSON —
/// <code>
///     { "program": 1,
///       "values":  [ { "id": 0, "name": "input", "zero_point": z, "bits": k }, … ],
///       "inputs":  [ 0 ], "outputs": [ … ],
///       "ops":     [ { "name": "…", "op": "conv2d|linear|add|maxpool|upsample|clamp|concat|flatten|roialign",
///                      "inputs": [ … ], "result": id, …attributes of the op… }, … ] }
/// </code>
/// Any program is stored the same way; reading names the op and the property at fault.
/// </summary>
public static class IntProgramFormat
{
    public const int Version = 1;

    public static IntModel ToModel(IntProgram program, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteNumber("program", Version);
            w.WriteStartArray("values");
            foreach (var v in program.Values)
            {
                w.WriteStartObject();
                w.WriteNumber("id", v.Id);
                w.WriteString("name", v.Name);
                w.WriteNumber("zero_point", v.ZeroPoint);
                w.WriteNumber("bits", v.Bits);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            Ints(w, "inputs", program.Inputs);
            Ints(w, "outputs", program.Outputs);
            w.WriteStartArray("ops");
            foreach (var op in program.Ops)
            {
                w.WriteStartObject();
                w.WriteString("name", op.Name);
                w.WriteString("op", op.Kind);
                Ints(w, "inputs", op.Inputs);
                w.WriteNumber("result", op.Output);
                op.WriteAttributes(w);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return new IntModel(program.Ops.SelectMany(o => o.Tensors()), System.Text.Encoding.UTF8.GetString(stream.ToArray()), metadata);
    }

    /// <summary>The program of an NQIM model; <paramref name="source"/> names the file in errors.</summary>
    public static IntProgram FromModel(IntModel model, string source)
    {
        try
        {
            using var doc = JsonDocument.Parse(model.GraphJson);
            var g = doc.RootElement;
            if (g.ValueKind != JsonValueKind.Object || !g.TryGetProperty("program", out var pv) || !pv.TryGetInt32(out int version))
                throw new FormatException("the graph is not an integer program (no \"program\" version).");
            if (version != Version) throw new FormatException($"program version {version} is not supported (this reader reads {Version}).");
            var values = new List<IntValue>();
            foreach (var v in Array(g, "values"))
                values.Add(new IntValue(LayerJson.Int(v, "id", "values"), LayerJson.String(v, "name"), LayerJson.Int(v, "zero_point", "values"),
                                        LayerJson.Int(v, "bits", "values")));
            foreach (var v in values)
                if (v.Bits is < 1 or > 8 || (uint)v.ZeroPoint > (uint)v.QMax)
                    throw new FormatException($"value {v.Id} '{v.Name}' has zero point {v.ZeroPoint} off its {v.Bits}-bit grid.");
            var ops = new List<IntOp>();
            foreach (var o in Array(g, "ops")) ops.Add(ReadOp(model, o));
            return new IntProgram(values, IntArray(g, "inputs"), ops, IntArray(g, "outputs"));
        }
        catch (Exception e) when (e is FormatException or JsonException or KeyNotFoundException or ArgumentException or InvalidOperationException)
        {
            throw new IntModelFormatException(source, $"the integer program is damaged: {e.Message}", e);
        }
    }

    private static IntOp ReadOp(IntModel model, JsonElement o)
    {
        string name = LayerJson.String(o, "name");
        string kind = LayerJson.String(o, "op");
        var inputs = IntArray(o, "inputs");
        int output = LayerJson.Int(o, "result", name);
        int Input(int i) => i < inputs.Length ? inputs[i] : throw new FormatException($"op '{name}' ({kind}) needs at least {i + 1} inputs.");
        return kind switch
        {
            "conv2d" => new IntConvOp(name, Input(0), output,
                IntConvLayer.Read(model, o, weightFrom: o.TryGetProperty("weights", out var wf) ? wf.GetString() : null),
                o.TryGetProperty("weights", out var wf2) ? wf2.GetString() : null),
            "linear" => new IntLinearOp(name, Input(0), output, IntLinearLayer.Read(model, o)),
            "add" => new IntAddOp(name, Input(0), Input(1), output, IntAddLayer.Read(o)),
            "maxpool" => new IntMaxPoolOp(name, Input(0), output, LayerJson.Int(o, "kernel", name), LayerJson.Int(o, "stride", name), LayerJson.Int(o, "padding", name)),
            "upsample" => new IntUpsampleOp(name, Input(0), Input(1), output),
            "clamp" => new IntClampOp(name, Input(0), output, LayerJson.Int(o, "lo", name), LayerJson.Int(o, "hi", name)),
            "concat" => new IntConcatOp(name, inputs, output, LayerJson.Int(o, "axis", name)),
            "flatten" => new IntFlattenOp(name, Input(0), output, LayerJson.Int(o, "start_axis", name)),
            "slice" => new IntSliceOp(name, Input(0), output, LayerJson.Int(o, "axis", name), LayerJson.Int(o, "start", name), LayerJson.Int(o, "length", name), LayerJson.Int(o, "input_length", name)),
            "roialign" => IntRoiAlignOp.Read(name, inputs, output, o),
            _ => throw new FormatException($"op '{name}' has unknown type \"{kind}\"."),
        };
    }

    private static IEnumerable<JsonElement> Array(JsonElement o, string key) =>
        o.TryGetProperty(key, out var a) && a.ValueKind == JsonValueKind.Array ? a.EnumerateArray() : throw new FormatException($"missing array \"{key}\".");

    private static int[] IntArray(JsonElement o, string key) =>
        Array(o, key).Select(v => v.TryGetInt32(out int i) ? i : throw new FormatException($"\"{key}\" holds a non-integer {v.GetRawText()}.")).ToArray();

    private static void Ints(Utf8JsonWriter w, string key, IEnumerable<int> values)
    {
        w.WriteStartArray(key);
        foreach (int v in values) w.WriteNumberValue(v);
        w.WriteEndArray();
    }
}
