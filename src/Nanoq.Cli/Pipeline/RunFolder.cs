using System.Text.Json;
using System.Text.Json.Nodes;
using Nanoq.Detection;
using Nanoq.IO;

namespace Nanoq.Cli.Pipeline;

/// <summary>
/// The files of one run, all under one folder (<c>--out</c>, default <c>runs/&lt;name&gt;</c>):
/// <code>
///   model.json                 the detector's family, configuration and class names (written by train)
///   float.safetensors/.csv     float training checkpoint and loss curve
///   int4.safetensors/.csv      quantization-aware fine-tuning checkpoint and loss curve (name from the bit width)
///   int4.nqm                   the integer model
///   detections-*.json          COCO results of each evaluated model
///   summary.json               the 12 COCO numbers of each model, stage times
/// </code>
/// </summary>
public sealed record RunFolder(string Dir) : IDisposable
{
    public string ModelJson => Path.Combine(Dir, "model.json");
    public string FloatCheckpoint => Path.Combine(Dir, "float.safetensors");
    /// <summary>The fine-tuning checkpoint of a recipe: int4.safetensors for FQN at 4 bits, int4-baseline.safetensors for another.</summary>
    public string QuantCheckpoint(Quant.QuantRecipe r) => Path.Combine(Dir, $"{Label(r)}.safetensors");

    /// <summary>int4 (FQN) or int4-&lt;recipe name&gt;.</summary>
    public static string Label(Quant.QuantRecipe r) => r.Name == "FQN" ? $"int{r.Bits}" : $"int{r.Bits}-{r.Name}";
    /// <summary>The integer-only model file converted from a recipe's fine-tuned checkpoint (int4.nqm for FQN at 4 bits).</summary>
    public string IntegerModel(Quant.QuantRecipe r) => Path.Combine(Dir, $"{Label(r)}.nqm");
    public string Detections(string label) => Path.Combine(Dir, $"detections-{label}.json");
    public string Summary => Path.Combine(Dir, "summary.json");

    /// <summary>
    /// model.json: <c>{"Detector": "retinanet"|"faster-rcnn", "Config": {…the family's fields…}, "ClassNames": […], "Data": "…"}</c>,
    /// and for a model that fixes its classes' COCO category ids (<c>nanoq import</c>) <c>"CategoryIds": […]</c> in label order.
    /// A model.json without "Detector" (written before Faster R-CNN existed) is a RetinaNet's.
    /// </summary>
    public sealed record ModelInfo(IDetectorConfig Config, string[] ClassNames, string Data, long[]? CategoryIds = null)
    {
        public string Detector => Config.Kind;

        /// <summary>The model's own label ↔ category map, or null when its labels are the data's categories in ascending id order.</summary>
        public Coco.Data.CategoryMap? Categories => CategoryIds is null ? null : new Coco.Data.CategoryMap(CategoryIds, ClassNames);
    }

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };
    private FileStream? _lock;

    /// <summary>
    /// Before a command writes into the folder: creates it, takes its lock (<c>.lock</c>, held until the process ends, so
    /// two commands never write one run folder at once — the second is refused naming the folder) and removes temporary
    /// files that killed writes left behind (<see cref="AtomicFile.RemoveStaleTemporaries"/>).
    /// </summary>
    public void BeginWriting(TextWriter log)
    {
        if (_lock is not null) return;
        Directory.CreateDirectory(Dir);
        string path = Path.Combine(Dir, ".lock");
        try
        {
            _lock = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
        }
        catch (IOException)
        {
            throw new Commands.UsageException($"{Dir} is in use by another nanoq command (it holds {path}); wait for it, or choose another --out");
        }
        var removed = AtomicFile.RemoveStaleTemporaries(Dir, recursive: true);
        if (removed.Count > 0) log.WriteLine($"removed {removed.Count} temporary file(s) left by an interrupted write in {Dir}");
    }

    /// <summary>Releases the folder's lock (taken by <see cref="BeginWriting"/>).</summary>
    public void Dispose()
    {
        _lock?.Dispose();
        _lock = null;
    }

    /// <summary>
    /// Writes model.json — unless the folder already holds a model of another description, which would leave its float,
    /// fake-quant and integer models unloadable: that is refused before anything is written.
    /// </summary>
    public void SaveModelInfo(ModelInfo info)
    {
        Directory.CreateDirectory(Dir);
        if (File.Exists(ModelJson) && File.Exists(FloatCheckpoint))
        {
            var old = LoadModelInfo();
            if (!old.Config.Equals(info.Config))
                throw new Commands.UsageException($"{Dir} holds a model of another configuration ({ModelJson}: {old.Config.Describe()}; asked for {info.Config.Describe()}); choose another --out");
        }
        var doc = new JsonObject
        {
            ["Detector"] = info.Detector,
            ["Config"] = JsonSerializer.SerializeToNode(info.Config, info.Config.GetType()),
            ["ClassNames"] = new JsonArray(info.ClassNames.Select(n => (JsonNode?)n).ToArray()),
            ["Data"] = info.Data,
        };
        if (info.CategoryIds is not null) doc["CategoryIds"] = new JsonArray(info.CategoryIds.Select(i => (JsonNode?)i).ToArray());
        AtomicFile.WriteAllText(ModelJson, doc.ToJsonString(Json));
    }

    /// <summary>model.json, validated: every field present and consistent, errors naming the file and the field.</summary>
    public ModelInfo LoadModelInfo()
    {
        if (!File.Exists(ModelJson))
            throw new FileNotFoundException($"{ModelJson} not found: train a model into this folder first (nanoq train --out {Dir})");
        JsonObject doc;
        try
        {
            doc = JsonNode.Parse(File.ReadAllText(ModelJson)) as JsonObject
                  ?? throw new Nn.StateDictException($"{ModelJson}: the document is empty (null) or not a JSON object.");
        }
        catch (JsonException e)
        {
            throw new Nn.StateDictException($"{ModelJson}: not a valid model description: {e.Message}", e);
        }
        string detector = Field(doc, "Detector", required: false) is { } d
            ? (d.GetValueKind() == JsonValueKind.String ? d.GetValue<string>() : throw new Nn.StateDictException($"{ModelJson}: the field \"Detector\" is not a string."))
            : "retinanet";
        if (!Detection.Detectors.Kinds.Contains(detector))
            throw new Nn.StateDictException($"{ModelJson}: \"Detector\" is '{detector}', not one of {string.Join(", ", Detection.Detectors.Kinds)}.");
        IDetectorConfig config;
        try
        {
            config = Detection.Detectors.ParseConfig(detector, Field(doc, "Config")!.ToJsonString());
        }
        catch (ArgumentException e)
        {
            throw new Nn.StateDictException($"{ModelJson}: \"Config\": {e.Message}", e);
        }
        string[] classNames;
        string data;
        long[]? categoryIds;
        try
        {
            classNames = Field(doc, "ClassNames")!.Deserialize<string[]>()!;
            data = Field(doc, "Data")!.GetValue<string>();
            categoryIds = Field(doc, "CategoryIds", required: false)?.Deserialize<long[]>();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new Nn.StateDictException($"{ModelJson}: \"ClassNames\" must be an array of strings, \"Data\" a string and \"CategoryIds\" (if present) an array of integers: {e.Message}", e);
        }
        var info = new ModelInfo(config, classNames, data, categoryIds);
        if (info.ClassNames.Length != info.Config.NumClasses || info.ClassNames.Any(n => n is null))
            throw new Nn.StateDictException($"{ModelJson}: \"ClassNames\" has {info.ClassNames.Length} names for Config.NumClasses = {info.Config.NumClasses}.");
        if (categoryIds is not null && (categoryIds.Length != info.Config.NumClasses || categoryIds.Distinct().Count() != categoryIds.Length))
            throw new Nn.StateDictException($"{ModelJson}: \"CategoryIds\" must hold {info.Config.NumClasses} distinct ids (one per class), got {categoryIds.Length}.");
        return info;
    }

    private JsonNode? Field(JsonObject doc, string name, bool required = true)
    {
        var node = doc[name];
        if (node is null && required) throw new Nn.StateDictException($"{ModelJson}: the field \"{name}\" is missing or null.");
        return node;
    }
}
