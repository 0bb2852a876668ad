using System.Diagnostics;
using Nanoq.Cli.Terminal;
using Nanoq.Coco.Data;
using Nanoq.Coco.Evaluation;
using Nanoq.Detection;
using Nanoq.IO;
using Nanoq.Nn.Checkpoints;

namespace Nanoq.Cli.Pipeline;

/// <summary>The pipeline's stages as functions, shared by the sub-commands and the main job (<c>nanoq run</c>).</summary>
public static class Stages
{
    /// <summary>The loader transform for a detector's input size: shorter side to S, longer side at most 5/3·S.</summary>
    public static TransformOptions Transform(RetinaNetConfig c) =>
        new() { Resize = Coco.Data.ResizeMode.ShorterSide, ShorterSide = c.InputSize, MaxLongerSide = c.InputSize * 5 / 3 };

    /// <summary>Trains the float detector into the run folder (resuming its checkpoint if there is one).</summary>
    public static (RetinaNet Model, IReadOnlyList<DetectorTrainer.Point> History, TimeSpan Time) TrainFloat(
        RunFolder run, DataSplits data, RetinaNetConfig config, TrainOptions options, TextWriter log, CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        config = config with { NumClasses = data.Train.Categories.Count };
        run.SaveModelInfo(new RunFolder.ModelInfo(config, data.Train.Categories.Names.ToArray(), data.Description));
        var model = new RetinaNet(config, options.Seed);
        var trainer = new DetectorTrainer(model, data.Train, Transform(config), options);
        var history = trainer.Run(run.FloatCheckpoint, "float", log, cancel);
        return (model, history, clock.Elapsed);
    }

    /// <summary>A float model from the run folder's checkpoint.</summary>
    public static RetinaNet LoadFloat(RunFolder run)
    {
        var info = run.LoadModelInfo();
        if (!File.Exists(run.FloatCheckpoint))
            throw new FileNotFoundException($"{run.FloatCheckpoint} not found: train the float model first (nanoq train --out {run.Dir})");
        var model = new RetinaNet(info.Config);
        var state = Safetensors.Load(run.FloatCheckpoint);
        model.LoadStateDict(state.Where(kv => kv.Key.StartsWith("model.", StringComparison.Ordinal))
                                 .ToDictionary(kv => kv.Key["model.".Length..], kv => kv.Value));
        model.Eval();
        return model;
    }

    /// <summary>Evaluates a model on the val split, writes its detections json, prints the 12 numbers.</summary>
    public static CocoEvalResult Evaluate(RunFolder run, string label, DataSplits data, RetinaNetConfig config,
        Func<Tensor, IReadOnlyList<(int Height, int Width)>, IReadOnlyList<Detections>> detect, TextWriter log, int batchSize = 8)
    {
        var (result, dets) = DetectorEvaluation.Evaluate(detect, data.Val, Transform(config), batchSize, log, $"eval {label}");
        Coco.CocoResults.Save(run.Detections(label), dets);
        log.WriteLine($"{label}: AP {result.Stats[0]:F3}  AP50 {result.Stats[1]:F3}  AP75 {result.Stats[2]:F3} ({dets.Count} detections → {run.Detections(label)})");
        return result;
    }
}
