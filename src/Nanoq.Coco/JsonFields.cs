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

    public JsonElement Required(JsonElement obj, ReadOnlySpan<byte> name, JsonItem at)
    {
        if (obj.ValueKind != JsonValueKind.Object)
            throw Error(at.Path, $"expected an object, got {Describe(obj)}");
        if (!obj.TryGetProperty(name, out var value))
            throw Error(at.Path, $"missing required field '{Text(name)}'");
        return value;
    }

    public static JsonElement? Optional(JsonElement obj, ReadOnlySpan<byte> name) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    public JsonElement RequiredArray(JsonElement obj, ReadOnlySpan<byte> name, JsonItem at)
    {
        var v = Required(obj, name, at);
        if (v.ValueKind != JsonValueKind.Array)
            throw Error(at.Field(Text(name)), $"expected a list, got {Describe(v)}");
        return v;
    }

    public long Id(JsonElement obj, ReadOnlySpan<byte> name, JsonItem at)
    {
        var v = Required(obj, name, at);
        if (v.ValueKind == JsonValueKind.Number)
        {
            if (v.TryGetInt64(out long x)) return x;
            // 7.0 is an integer written by a float-happy tool; accept it, reject 7.5.
            double d = v.GetDouble();
            if (Math.Floor(d) == d && Math.Abs(d) < 9.0e15) return (long)d;
        }
        throw Error(at.Field(Text(name)), $"expected an integer, got {Describe(v)}");
    }

    public int Int(JsonElement obj, ReadOnlySpan<byte> name, JsonItem at)
    {
        long x = Id(obj, name, at);
        if (x < int.MinValue || x > int.MaxValue)
            throw Error(at.Field(Text(name)), $"integer {x} is out of range");
        return (int)x;
    }

    public double Number(JsonElement obj, ReadOnlySpan<byte> name, JsonItem at)
    {
        var v = Required(obj, name, at);
        if (v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out double d) && double.IsFinite(d)) return d;
        throw Error(at.Field(Text(name)), $"expected a finite number, got {Describe(v)}");
    }

    public string String(JsonElement obj, ReadOnlySpan<byte> name, JsonItem at)
    {
        var v = Required(obj, name, at);
        if (v.ValueKind != JsonValueKind.String)
            throw Error(at.Field(Text(name)), $"expected a string, got {Describe(v)}");
        return v.GetString()!;
    }

    public bool Flag(JsonElement v, ReadOnlySpan<byte> name, JsonItem at) => v.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Number when v.TryGetInt64(out long x) && (x == 0 || x == 1) => x == 1,
        _ => throw Error(at.Field(Text(name)), $"expected 0, 1, true or false, got {Describe(v)}"),
    };

    /// <summary>
    /// A COCO box: exactly four numbers [x, y, w, h], finite, w and h positive — or, for a detection
    /// (<paramref name="result"/>), not negative (<see cref="CocoBox.IsValidResult"/>).
    /// </summary>
    public CocoBox Box(JsonElement obj, ReadOnlySpan<byte> name, JsonItem at, bool result = false)
    {
        var v = Required(obj, name, at);
        if (v.ValueKind != JsonValueKind.Array)
            throw Error(at.Field(Text(name)), $"expected a list of 4 numbers [x, y, w, h], got {Describe(v)}");
        int n = v.GetArrayLength();
        if (n != 4)
            throw Error(at.Field(Text(name)), $"expected 4 numbers [x, y, w, h], got {n}");
        Span<double> xs = stackalloc double[4];
        for (int i = 0; i < 4; i++)
        {
            var e = v[i];
            if (e.ValueKind != JsonValueKind.Number || !e.TryGetDouble(out xs[i]))
                throw Error($"{at.Field(Text(name))}[{i}]", $"expected a number, got {Describe(e)}");
        }
        var box = new CocoBox(xs[0], xs[1], xs[2], xs[3]);
        if (result ? !box.IsValidResult : !box.IsValid)
            throw Error(at.Field(Text(name)), result ? CocoDataset.ResultBoxProblem(box) : CocoDataset.BoxProblem(box));
        return box;
    }

    // Field names are UTF-8 literals ("bbox"u8): lookups then compare bytes without transcoding; text only for errors.
    private static string Text(ReadOnlySpan<byte> utf8) => System.Text.Encoding.UTF8.GetString(utf8);

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
