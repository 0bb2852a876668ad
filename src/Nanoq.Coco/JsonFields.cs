using System.Text.Json;

namespace Nanoq.Coco;

/// <summary>
/// Typed access to json fields that turns every surprise into a <see cref="CocoFormatException"/> naming the file,
/// the json path (<c>annotations[17].bbox</c>) and what was expected, instead of an InvalidOperationException.
/// </summary>
internal readonly struct JsonFields(string source)
{
    public string Source { get; } = source;

    public CocoFormatException Error(string path, string problem) => new(Source, path, problem);

    public JsonElement Required(JsonElement obj, string name, string path)
    {
        if (obj.ValueKind != JsonValueKind.Object)
            throw Error(path, $"expected an object, got {Describe(obj)}");
        if (!obj.TryGetProperty(name, out var value))
            throw Error(path, $"missing required field '{name}'");
        return value;
    }

    public JsonElement? Optional(JsonElement obj, string name)
    {
        if (obj.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null)
            return value;
        return null;
    }

    public JsonElement RequiredArray(JsonElement obj, string name, string path)
    {
        var v = Required(obj, name, path);
        if (v.ValueKind != JsonValueKind.Array)
            throw Error(Join(path, name), $"expected a list, got {Describe(v)}");
        return v;
    }

    public long Id(JsonElement obj, string name, string path)
    {
        var v = Required(obj, name, path);
        return AsInt64(v, Join(path, name));
    }

    public long AsInt64(JsonElement v, string path)
    {
        if (v.ValueKind == JsonValueKind.Number)
        {
            if (v.TryGetInt64(out long x)) return x;
            // 7.0 is an integer written by a float-happy tool; accept it, reject 7.5.
            double d = v.GetDouble();
            if (Math.Floor(d) == d && Math.Abs(d) < 9.0e15) return (long)d;
        }
        throw Error(path, $"expected an integer, got {Describe(v)}");
    }

    public int Int(JsonElement obj, string name, string path)
    {
        long x = AsInt64(Required(obj, name, path), Join(path, name));
        if (x < int.MinValue || x > int.MaxValue)
            throw Error(Join(path, name), $"integer {x} is out of range");
        return (int)x;
    }

    public double Number(JsonElement obj, string name, string path) => AsDouble(Required(obj, name, path), Join(path, name));

    public double AsDouble(JsonElement v, string path)
    {
        if (v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out double d) && double.IsFinite(d)) return d;
        throw Error(path, $"expected a finite number, got {Describe(v)}");
    }

    public string String(JsonElement obj, string name, string path)
    {
        var v = Required(obj, name, path);
        if (v.ValueKind != JsonValueKind.String)
            throw Error(Join(path, name), $"expected a string, got {Describe(v)}");
        return v.GetString()!;
    }

    public bool Flag(JsonElement v, string path) => v.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Number when v.TryGetInt64(out long x) && (x == 0 || x == 1) => x == 1,
        _ => throw Error(path, $"expected 0, 1, true or false, got {Describe(v)}"),
    };

    /// <summary>A COCO box: exactly four numbers [x, y, w, h] with w, h finite and positive.</summary>
    public CocoBox Box(JsonElement obj, string name, string path)
    {
        string p = Join(path, name);
        var v = Required(obj, name, path);
        if (v.ValueKind != JsonValueKind.Array)
            throw Error(p, $"expected a list of 4 numbers [x, y, w, h], got {Describe(v)}");
        int n = v.GetArrayLength();
        if (n != 4)
            throw Error(p, $"expected 4 numbers [x, y, w, h], got {n}");
        Span<double> xs = stackalloc double[4];
        int i = 0;
        foreach (var e in v.EnumerateArray())
        {
            if (e.ValueKind != JsonValueKind.Number || !e.TryGetDouble(out xs[i]))
                throw Error($"{p}[{i}]", $"expected a number, got {Describe(e)}");
            i++;
        }
        var box = new CocoBox(xs[0], xs[1], xs[2], xs[3]);
        if (!box.IsValid)
            throw Error(p, CocoDataset.BoxProblem(box));
        return box;
    }

    public static string Join(string path, string name) => path.Length == 0 ? name : $"{path}.{name}";

    public static string Describe(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "a list",
        JsonValueKind.String => $"the string \"{Truncate(v.GetString()!)}\"",
        JsonValueKind.Number => v.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Null => "null",
        _ => v.ValueKind.ToString(),
    };

    private static string Truncate(string s) => s.Length <= 40 ? s : s[..40] + "...";
}
