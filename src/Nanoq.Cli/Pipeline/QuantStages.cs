using System.Diagnostics;
using Nanoq.Autograd;
using Nanoq.Coco.Data;
using Nanoq.Detection;
using Nanoq.Nn.Checkpoints;
using Nanoq.Quant;
using Nanoq.Quant.Taps;

namespace Nanoq.Cli.Pipeline;

/// <summary>
/// The FQN stages on a trained float detector: install quantizers (recipe), calibrate activation ranges on n_cal
/// training batches, fine-tune at a fixed LR; the checkpoint keeps the model and every activation range, so a
/// fine-tuned model can be reloaded (evaluation, conversion) or the fine-tuning resumed.
/// </summary>
public static class QuantStages
{
    public static string Tag(QuantRecipe r) => $"qat-{r.Name}-int{r.Bits}";

    /// <summary>Loads the float model, quantizes it by <paramref name="recipe"/>, calibrates (unless resuming) and fine-tunes.</summary>
    public static (RetinaNet Model, QuantRegistry Registry, TimeSpan Time) FineTune(RunFolder run, DataSplits data, QuantRecipe recipe,
        TrainOptions floatSchedule, string checkpoint, TextWriter log, CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        var model = Stages.LoadFloat(run);
        var registry = ModelQuantizer.Install(model, recipe);
        var transform = Stages.Transform(model.Config);
        if (!File.Exists(checkpoint))
        {
            var loader = new CocoDataLoader(data.Train, transform, floatSchedule.BatchSize, shuffle: true, floatSchedule.Seed + 17);
            int used = Calibrator.Calibrate(model, loader.Epoch(0),
                b => { model.Forward(new Var(Tensor.FromArray(b.Data, b.N, b.C, b.H, b.W))); b.Dispose(); }, recipe.CalibrationBatches);
            log.WriteLine($"{recipe.Name}: calibrated {registry.Activations.Count()} activation ranges on {used} batches");
        }
        var options = floatSchedule with
        {
            Steps = recipe.Steps, Lr = recipe.FineTuneLr(floatSchedule.Lr), WarmupSteps = 0, Milestones = [],
        };
        var trainer = new DetectorTrainer(model, data.Train, transform, options)
        {
            AfterStep = step => { foreach (var l in ModelQuantizer.Layers(model)) l.Step = step; },
            ExtraState = () => RangeState(registry),
            LoadExtraState = s => LoadRangeState(registry, s),
        };
        if (recipe.Steps > 0) trainer.Run(checkpoint, Tag(recipe), log, cancel);
        model.Eval();
        return (model, registry, clock.Elapsed);
    }

    /// <summary>A fine-tuned model from its checkpoint (the float run's configuration, the recipe's quantizers).</summary>
    public static (RetinaNet Model, QuantRegistry Registry) Load(RunFolder run, QuantRecipe recipe, string checkpoint)
    {
        var info = run.LoadModelInfo();
        if (!File.Exists(checkpoint))
            throw new FileNotFoundException($"{checkpoint} not found: run nanoq quantize --out {run.Dir} first");
        var model = new RetinaNet(info.Config);
        var registry = ModelQuantizer.Install(model, recipe);
        var all = Safetensors.Load(checkpoint, out var meta);
        if (meta.GetValueOrDefault("tag") != Tag(recipe))
            throw new Nn.StateDictException($"{checkpoint}: a checkpoint of '{meta.GetValueOrDefault("tag")}', not of '{Tag(recipe)}'.");
        model.LoadStateDict(Strip(all, "model."));
        LoadRangeState(registry, Strip(all, "extra."));
        model.Eval();
        return (model, registry);
    }

    /// <summary>Every calibrated activation range as a tensor [Δ, z] named after its quantizer.</summary>
    public static Dictionary<string, Tensor> RangeState(QuantRegistry registry)
    {
        var d = new Dictionary<string, Tensor>();
        foreach (var a in registry.Activations)
            if (a.Scheme == QuantScheme.Affine && a.Current is QParams q)
                d["range." + a.Name] = Tensor.FromArray([q.Scale, q.ZeroPoint], 2);
        return d;
    }

    public static void LoadRangeState(QuantRegistry registry, IReadOnlyDictionary<string, Tensor> state)
    {
        foreach (var a in registry.Activations)
        {
            if (a.Scheme != QuantScheme.Affine) continue;
            if (!state.TryGetValue("range." + a.Name, out var t) || t.Size != 2)
                throw new Nn.StateDictException($"the checkpoint has no activation range for '{a.Name}'.");
            a.SetQParams(new QParams(t.Span[0], (int)t.Span[1], a.Bits));
        }
    }

    private static Dictionary<string, Tensor> Strip(Dictionary<string, Tensor> all, string prefix) =>
        all.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value);
}
