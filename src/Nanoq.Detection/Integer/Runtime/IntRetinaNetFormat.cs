using System.Text;
using System.Text.Json;
using Nanoq.Quant.Integer;

namespace Nanoq.Detection.Integer;

/// <summary>
/// An <see cref="IntRetinaNetGraph"/> as an <see cref="IntModel"/> (stored by <see cref="IntModelFile"/>: versioned,
/// checksummed, 4-bit codes two per byte). Integers only, like the graph itself. Each unit is stored in its
/// <see cref="IntConvLayer"/> / <see cref="IntAddLayer"/> form (their tensors and JSON object, keyed by the unit's
/// <see cref="IIntUnit.Key"/>) plus "unit" (the tap name), "binding", "output_bits" — and "weight_from" for a
/// per-level variant of a shared conv, whose weight codes are stored once, with the first variant (4-bit model files
/// stay small: the head's first convs would otherwise be stored five times).
/// <code>
/// { "format": "nanoq.integer-retinanet", "version": 1, "input": { "zero_point": z, "bits": k },
///   "layers": [ { conv2d or add object, "unit", ["binding",] "output_bits", ["weight_from"] }, … ],
///   "backbone": { "type": "resnet", "stem", "pool": [k, s, p],
///                 "stages": [ [ { "type": "basic" | "bottleneck", "convs": [ … ], "downsample": key | null, "add" }, … ] × 4 ] }
///             | { "type": "mobilenet_v2", "stages": [ i2, i3, i4, i5 ],
///                 "features": [ { "type": "conv", "conv" } | { "type": "inverted_residual", "pre": [ … ], "project", "add": key | null } ] },
///   "fpn": { "lateral": [ 3 ], "output": [ 3 ], "topdown": [ 2 ], "p6", "p7" },
///   "head": { "cls": [ [ key per level ] per position ], "box": [ … ], "cls_logits": [ key per level ], "bbox_pred": [ … ],
///             "num_anchors", "num_classes" } }
/// </code>
/// Structure entries name units by key.
/// </summary>
public static class IntRetinaNetFormat
{
    public const string FormatName = "nanoq.integer-retinanet";
    public const int FormatVersion = 1;

    public static IntModel ToModel(IntRetinaNetGraph graph, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var tensors = new List<IntTensor>();
        var json = new MemoryStream();
        using (var w = new Utf8JsonWriter(json))
        {
            w.WriteStartObject();
            w.WriteString("format", FormatName);
            w.WriteNumber("version", FormatVersion);
            w.WriteStartObject("input");
            w.WriteNumber("zero_point", graph.InputZeroPoint);
            w.WriteNumber("bits", graph.InputBits);
            w.WriteEndObject();
            w.WriteStartArray("layers");
            var firstVariant = new Dictionary<string, IntConvUnit>(StringComparer.Ordinal);
            foreach (var l in graph.Layers)
            {
                if (l is IntConvUnit c) WriteConv(w, c, tensors, firstVariant);
                else if (l is IntAddUnit a) WriteAdd(w, a);
            }
            w.WriteEndArray();
            w.WritePropertyName("backbone");
            WriteBackbone(w, graph.Backbone);
            var f = graph.Fpn;
            w.WriteStartObject("fpn");
            Names(w, "lateral", f.Lateral);
            Names(w, "output", f.Output);
            Names(w, "topdown", f.TopDown);
            w.WriteString("p6", f.P6.Name);
            w.WriteString("p7", f.P7.Name);
            w.WriteEndObject();
            var h = graph.Head;
            w.WriteStartObject("head");
            w.WriteStartArray("cls");
            foreach (var pos in h.ClsConvs) Names(w, null, pos);
            w.WriteEndArray();
            w.WriteStartArray("box");
            foreach (var pos in h.BoxConvs) Names(w, null, pos);
            w.WriteEndArray();
            Names(w, "cls_logits", h.ClsLogits);
            Names(w, "bbox_pred", h.BboxPred);
            w.WriteNumber("num_anchors", h.NumAnchors);
            w.WriteNumber("num_classes", h.NumClasses);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return new IntModel(tensors, Encoding.UTF8.GetString(json.ToArray()), metadata);
    }

    private static void WriteConv(Utf8JsonWriter w, IntConvUnit c, List<IntTensor> tensors, Dictionary<string, IntConvUnit> firstVariant)
    {
        w.WriteStartObject();
        c.Layer.WriteProperties(w);
        w.WriteString("unit", c.Name);
        if (c.Binding is not null) w.WriteString("binding", c.Binding);
        w.WriteNumber("output_bits", c.OutputBits);
        if (firstVariant.TryGetValue(c.Name, out var first))
        {
            if (!first.Layer.Weights.Codes.SequenceEqual(c.Layer.Weights.Codes) || !first.Layer.Weights.ZeroPoints.SequenceEqual(c.Layer.Weights.ZeroPoints))
                throw new InvalidOperationException($"IntRetinaNetFormat: variants '{first.Key}' and '{c.Key}' of one conv have different weights.");
            w.WriteString("weight_from", first.Key);
            string[] own = [".bias", ".multiplier", ".shift"];
            tensors.AddRange(c.Layer.ToTensors().Where(t => own.Any(x => t.Name == c.Key + x)));
        }
        else
        {
            firstVariant[c.Name] = c;
            tensors.AddRange(c.Layer.ToTensors());
        }
        w.WriteEndObject();
    }

    private static void WriteAdd(Utf8JsonWriter w, IntAddUnit a)
    {
        w.WriteStartObject();
        a.Layer.WriteProperties(w);
        w.WriteString("unit", a.Name);
        w.WriteNumber("output_bits", a.OutputBits);
        w.WriteEndObject();
    }

    private static void WriteBackbone(Utf8JsonWriter w, IIntBackbone backbone)
    {
        w.WriteStartObject();
        switch (backbone)
        {
            case IntResNet r:
                w.WriteString("type", "resnet");
                w.WriteString("stem", r.Stem.Name);
                w.WriteStartArray("pool");
                w.WriteNumberValue(r.PoolKernel);
                w.WriteNumberValue(r.PoolStride);
                w.WriteNumberValue(r.PoolPadding);
                w.WriteEndArray();
                w.WriteStartArray("stages");
                foreach (var stage in r.StageBlocks)
                {
                    w.WriteStartArray();
                    foreach (var b in stage)
                    {
                        w.WriteStartObject();
                        var (type, convs, ds, add) = b switch
                        {
                            IntBasicBlock bb => ("basic", new[] { bb.Conv1, bb.Conv2 }, bb.Downsample, bb.Add),
                            IntBottleneck bn => ("bottleneck", new[] { bn.Conv1, bn.Conv2, bn.Conv3 }, bn.Downsample, bn.Add),
                            _ => throw new InvalidOperationException($"IntRetinaNetFormat: unexpected ResNet block {b.GetType().Name}."),
                        };
                        w.WriteString("type", type);
                        Names(w, "convs", convs);
                        if (ds is null) w.WriteNull("downsample");
                        else w.WriteString("downsample", ds.Name);
                        w.WriteString("add", add.Name);
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                }
                w.WriteEndArray();
                break;
            case IntMobileNetV2 m:
                w.WriteString("type", "mobilenet_v2");
                w.WriteStartArray("stages");
                foreach (int i in m.StageIndices) w.WriteNumberValue(i);
                w.WriteEndArray();
                w.WriteStartArray("features");
                foreach (var f in m.Features)
                {
                    w.WriteStartObject();
                    if (f is IntConvUnit c)
                    {
                        w.WriteString("type", "conv");
                        w.WriteString("conv", c.Name);
                    }
                    else if (f is IntInvertedResidual ir)
                    {
                        w.WriteString("type", "inverted_residual");
                        Names(w, "pre", ir.Pre);
                        w.WriteString("project", ir.Project.Name);
                        if (ir.Add is null) w.WriteNull("add");
                        else w.WriteString("add", ir.Add.Name);
                    }
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                break;
            default:
                throw new InvalidOperationException($"IntRetinaNetFormat: unexpected backbone {backbone.GetType().Name}.");
        }
        w.WriteEndObject();
    }

    private static void Names(Utf8JsonWriter w, string? key, IEnumerable<IIntUnit> layers)
    {
        if (key is null) w.WriteStartArray();
        else w.WriteStartArray(key);
        foreach (var l in layers) w.WriteStringValue(l.Key);
        w.WriteEndArray();
    }

    private static void Pair(Utf8JsonWriter w, string key, int a, int b)
    {
        w.WriteStartArray(key);
        w.WriteNumberValue(a);
        w.WriteNumberValue(b);
        w.WriteEndArray();
    }

    // ---- reading ------------------------------------------------------------------------------------------------

    /// <summary>The graph stored in <paramref name="model"/>; a malformed graph throws <see cref="IntModelFormatException"/> naming <paramref name="source"/>.</summary>
    public static IntRetinaNetGraph FromModel(IntModel model, string source)
    {
        try
        {
            using var doc = JsonDocument.Parse(model.GraphJson);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || Str(root, "format") != FormatName)
                throw new FormatException($"the graph is not a {FormatName} graph.");
            int version = Int(root, "version");
            if (version != FormatVersion) throw new FormatException($"graph version {version} is not supported (this reader reads {FormatVersion}).");
            var input = Obj(root, "input");
            var layers = new Dictionary<string, IIntUnit>(StringComparer.Ordinal);
            foreach (var lj in Arr(root, "layers"))
            {
                IIntUnit l = Str(lj, "op") switch
                {
                    "conv2d" => ReadConv(lj, model),
                    "add" => new IntAddUnit(IntAddLayer.Read(lj), Int(lj, "output_bits")),
                    var op => throw new FormatException($"layer '{Str(lj, "name")}' has unknown op \"{op}\"."),
                };
                if (!layers.TryAdd(l.Key, l)) throw new FormatException($"two layers have the key '{l.Key}'.");
            }
            var backbone = ReadBackbone(Obj(root, "backbone"), layers);
            var fj = Obj(root, "fpn");
            var fpn = new IntFeaturePyramid(Convs(fj, "lateral", layers), Convs(fj, "output", layers), Adds(fj, "topdown", layers),
                                            Conv(Str(fj, "p6"), layers), Conv(Str(fj, "p7"), layers));
            var hj = Obj(root, "head");
            var head = new IntRetinaNetHead(Positions(hj, "cls", layers), Positions(hj, "box", layers), Convs(hj, "cls_logits", layers),
                                            Convs(hj, "bbox_pred", layers), Int(hj, "num_anchors"), Int(hj, "num_classes"));
            var graph = new IntRetinaNetGraph(Int(input, "zero_point"), Int(input, "bits"), backbone, fpn, head);
            int used = graph.Layers.Count();
            if (used != layers.Count) throw new FormatException($"{layers.Count} layers are listed but the structure uses {used}.");
            return graph;
        }
        catch (Exception e) when (e is FormatException or JsonException or ArgumentException or KeyNotFoundException or InvalidOperationException)
        {
            throw new IntModelFormatException(source, $"the integer RetinaNet graph is invalid: {e.Message}", e);
        }
    }

    private static IntConvUnit ReadConv(JsonElement j, IntModel model)
    {
        string unit = Str(j, "unit");
        string? binding = OptionalName(j, "binding");
        string key = binding is null ? unit : unit + "@" + binding;
        if (Str(j, "name") != key) throw new FormatException($"conv '{Str(j, "name")}' belongs to unit '{key}'.");
        // A variant (weight_from): its own constants, the first variant's weight codes.
        var layer = IntConvLayer.Read(model, j, weightFrom: OptionalName(j, "weight_from"));
        return new IntConvUnit(unit, layer, Int(j, "output_bits"), binding);
    }

    private static IIntBackbone ReadBackbone(JsonElement j, Dictionary<string, IIntUnit> layers)
    {
        switch (Str(j, "type"))
        {
            case "resnet":
            {
                var pool = Arr(j, "pool").Select(e => e.GetInt32()).ToArray();
                if (pool.Length != 3) throw new FormatException("the ResNet pool needs [kernel, stride, padding].");
                var stages = new List<IReadOnlyList<IIntBlock>>();
                foreach (var sj in Arr(j, "stages"))
                {
                    var blocks = new List<IIntBlock>();
                    foreach (var bj in sj.EnumerateArray())
                    {
                        var convs = Convs(bj, "convs", layers);
                        var ds = OptionalName(bj, "downsample") is string d ? Conv(d, layers) : null;
                        var add = Add(Str(bj, "add"), layers);
                        blocks.Add(Str(bj, "type") switch
                        {
                            "basic" when convs.Count == 2 => new IntBasicBlock(convs[0], convs[1], ds, add),
                            "bottleneck" when convs.Count == 3 => new IntBottleneck(convs[0], convs[1], convs[2], ds, add),
                            var t => throw new FormatException($"a ResNet block of type \"{t}\" with {convs.Count} convs."),
                        });
                    }
                    stages.Add(blocks);
                }
                return new IntResNet(Conv(Str(j, "stem"), layers), pool[0], pool[1], pool[2], stages);
            }
            case "mobilenet_v2":
            {
                var features = new List<IIntBlock>();
                foreach (var fj in Arr(j, "features"))
                {
                    features.Add(Str(fj, "type") switch
                    {
                        "conv" => Conv(Str(fj, "conv"), layers),
                        "inverted_residual" => new IntInvertedResidual(Convs(fj, "pre", layers), Conv(Str(fj, "project"), layers),
                                                                       OptionalName(fj, "add") is string a ? Add(a, layers) : null),
                        var t => throw new FormatException($"a MobileNetV2 feature of type \"{t}\"."),
                    });
                }
                return new IntMobileNetV2(features, Arr(j, "stages").Select(e => e.GetInt32()).ToArray());
            }
            default:
                throw new FormatException($"unknown backbone type \"{Str(j, "type")}\".");
        }
    }

    private static IntConvUnit Conv(string key, Dictionary<string, IIntUnit> layers) =>
        layers.TryGetValue(key, out var l) && l is IntConvUnit c ? c : throw new FormatException($"no conv layer '{key}'.");

    private static IntAddUnit Add(string key, Dictionary<string, IIntUnit> layers) =>
        layers.TryGetValue(key, out var l) && l is IntAddUnit a ? a : throw new FormatException($"no add layer '{key}'.");

    private static List<IntConvUnit> Convs(JsonElement j, string key, Dictionary<string, IIntUnit> layers) =>
        Arr(j, key).Select(e => Conv(e.GetString() ?? "", layers)).ToList();

    private static List<IReadOnlyList<IntConvUnit>> Positions(JsonElement j, string key, Dictionary<string, IIntUnit> layers) =>
        Arr(j, key).Select(p => (IReadOnlyList<IntConvUnit>)p.EnumerateArray().Select(e => Conv(e.GetString() ?? "", layers)).ToList()).ToList();

    private static List<IntAddUnit> Adds(JsonElement j, string key, Dictionary<string, IIntUnit> layers) =>
        Arr(j, key).Select(e => Add(e.GetString() ?? "", layers)).ToList();

    private static string? OptionalName(JsonElement j, string key) =>
        j.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static JsonElement Obj(JsonElement j, string key) =>
        j.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Object ? v : throw new FormatException($"missing object \"{key}\".");

    private static JsonElement.ArrayEnumerator Arr(JsonElement j, string key) =>
        j.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Array ? v.EnumerateArray() : throw new FormatException($"missing array \"{key}\".");

    private static string Str(JsonElement j, string key) =>
        j.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : throw new FormatException($"missing string \"{key}\".");

    private static int Int(JsonElement j, string key) =>
        j.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int r) ? r : throw new FormatException($"missing integer \"{key}\".");
}
