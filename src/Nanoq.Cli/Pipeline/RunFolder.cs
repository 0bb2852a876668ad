using System.Text.Json;
using Nanoq.Detection;
using Nanoq.IO;

namespace Nanoq.Cli.Pipeline;

/// <summary>
/// The files of one run, all under one folder (<c>--out</c>, default <c>runs/&lt;name&gt;</c>):
/// <code>
///   model.json                 the detector's configuration and class names (written by train)
///   float.safetensors/.csv     float training checkpoint and loss curve
///   int4.safetensors/.csv      quantization-aware fine-tuning checkpoint and loss curve (name from the bit width)
///   int4.nqm                   the integer model
///   detections-*.json          COCO results of each evaluated model
///   summary.json               the 12 COCO numbers of each model, stage times
/// </code>
/// </summary>
public sealed record RunFolder(string Dir)
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

    public sealed record ModelInfo(RetinaNetConfig Config, string[] ClassNames, string Data);

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public void SaveModelInfo(ModelInfo info)
    {
        Directory.CreateDirectory(Dir);
        AtomicFile.WriteAllText(ModelJson, JsonSerializer.Serialize(info, Json));
    }

    public ModelInfo LoadModelInfo()
    {
        if (!File.Exists(ModelJson))
            throw new FileNotFoundException($"{ModelJson} not found: train a model into this folder first (nanoq train --out {Dir})");
        try
        {
            return JsonSerializer.Deserialize<ModelInfo>(File.ReadAllText(ModelJson))
                   ?? throw new JsonException("empty document");
        }
        catch (JsonException e)
        {
            throw new Nn.StateDictException($"{ModelJson}: not a valid model description: {e.Message}", e);
        }
    }
}
