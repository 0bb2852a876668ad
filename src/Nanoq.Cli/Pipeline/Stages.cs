using System.Diagnostics;
using Nanoq.Cli.Terminal;
using Nanoq.Coco.Data;
using Nanoq.Coco.Evaluation;
using Nanoq.Detection;
using Nanoq.Nn.Checkpoints;
using Nanoq.Nn.Training;

namespace Nanoq.Cli.Pipeline;

/// <summary>
/// The pipeline's stages as the commands use them: the libraries do the work (<see cref="DetectorTraining"/>,
/// <see cref="Detectors"/>); these adapt the run folder, the COCO data and the console to them.
/// </summary>
public static class Stages
{
    /// <summary>
    /// The loader transform of a detector's configuration: shorter side to S = InputSize, longer side at most MaxInputSize
    /// (0: 5/3·S); torchvision's GeneralizedRCNNTransform exactly for a model imported from torchvision.
    /// </summary>
    public static TransformOptions Transform(IDetectorConfig c) => new()
    {
        Resize = c.TorchvisionResize ? Coco.Data.ResizeMode.Torchvision : Coco.Data.ResizeMode.ShorterSide,
        ShorterSide = c.InputSize,
        MaxLongerSide = c.MaxInputSize > 0 ? c.MaxInputSize : c.InputSize * 5 / 3,
    };

    /// <summary>
    /// The training batches from a step on, as a detector takes them: shuffled and flipped from (seed, epoch), so a resumed
    /// run sees the batches an unbroken one would; each batch's pooled buffer goes back when its step is done.
    /// </summary>
    public static Func<int, IEnumerable<DetectionBatch>> TrainingBatches(CocoFolder data, TransformOptions transform, TrainOptions options,
                                                                         bool skipBadImages = false, TextWriter? log = null)
    {
        var loader = new CocoDataLoader(data, transform with { FlipProbability = options.FlipProbability }, options.BatchSize,
                                        shuffle: true, options.Seed, sizeDivisibility: 32, dropLast: true)
        {
            BadImages = skipBadImages ? BadImagePolicy.Skip : BadImagePolicy.Throw,
            OnBadImage = e => log?.WriteLine($"skipping a bad image: {e.Message}"),
        };
        int perEpoch = loader.BatchesPerEpoch;
        if (perEpoch == 0) throw new ArgumentException($"{data.Count} training images are fewer than one batch of {options.BatchSize}.");
        return step => loader.Epoch(step / perEpoch, step % perEpoch).Select(b => ToDetection(b, data.Categories));
    }

    /// <summary>The calibration batches (n_cal of them are used): training images, shuffled with their own seed, unflipped.</summary>
    public static IEnumerable<DetectionBatch> CalibrationBatches(CocoFolder data, TransformOptions transform, TrainOptions options,
                                                                 bool skipBadImages = false, TextWriter? log = null) =>
        new CocoDataLoader(data, transform, options.BatchSize, shuffle: true, options.Seed + 17)
        {
            BadImages = skipBadImages ? BadImagePolicy.Skip : BadImagePolicy.Throw,
            OnBadImage = e => log?.WriteLine($"skipping a bad image: {e.Message}"),
        }.Epoch(0).Select(b => ToDetection(b, data.Categories));

    /// <summary>A COCO batch as a detector batch: boxes in the transformed image, contiguous labels, crowds left out.</summary>
    public static DetectionBatch ToDetection(ImageBatch batch, CategoryMap categories) =>
        new(Tensor.FromArray(batch.Data, batch.N, batch.C, batch.H, batch.W), Targets(batch), batch.Dispose);

    public static DetectionTarget[] Targets(ImageBatch batch)
    {
        var t = new DetectionTarget[batch.N];
        for (int i = 0; i < batch.N; i++)
        {
            var s = batch.Samples[i];
            var boxes = new List<float>();
            var labels = new List<int>();
            for (int j = 0; j < s.Boxes.Length; j++)
            {
                if (s.IsCrowd[j]) continue;
                var b = s.Boxes[j];
                boxes.AddRange([b.X1, b.Y1, b.X2, b.Y2]);
                labels.Add(s.Labels[j]);
            }
            t[i] = new DetectionTarget(boxes.ToArray(), labels.ToArray());
        }
        return t;
    }

    /// <summary>A progress bar as the training loop's progress callback.</summary>
    public static Action<int, int, string> Progress(TextWriter log, string tag, int steps)
    {
        var bar = new ProgressBar(log, tag, steps, "step");
        return (step, start, status) => bar.Report(step, status, start);
    }

    /// <summary>Trains the float detector into the run folder (resuming its checkpoint if there is one).</summary>
    public static (IDetector Model, IReadOnlyList<TrainPoint> History, TimeSpan Time) TrainFloat(
        RunFolder run, DataSplits data, IDetectorConfig config, TrainOptions options, TextWriter log, CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        config = config.WithNumClasses(data.Train.Categories.Count);
        run.SaveModelInfo(new RunFolder.ModelInfo(config, data.Train.Categories.Names.ToArray(), data.Description));
        var model = Detectors.Create(config, options.Seed);
        var history = DetectorTraining.Train(model, options, TrainingBatches(data.Train, Transform(config), options, data.SkipBadImages, log), run.FloatCheckpoint, "float",
                                             log, cancel, Progress(log, "float", options.Steps));
        return (model, history, clock.Elapsed);
    }

    /// <summary>A float model from the run folder's checkpoint.</summary>
    public static IDetector LoadFloat(RunFolder run)
    {
        var info = run.LoadModelInfo();
        if (!File.Exists(run.FloatCheckpoint))
            throw new FileNotFoundException($"{run.FloatCheckpoint} not found: train the float model first (nanoq train --out {run.Dir})");
        var model = Detectors.Create(info.Config);
        StateDicts.LoadModel(model.Network, run.FloatCheckpoint);
        model.Network.Eval();
        return model;
    }

    /// <summary>
    /// Evaluates a model on the val split, writes its detections json, prints the 12 numbers. <paramref name="cancel"/>
    /// (Ctrl-C) stops it between batches with an <see cref="OperationCanceledException"/>: exit 130, nothing written.
    /// </summary>
    public static CocoEvalResult Evaluate(RunFolder run, string label, DataSplits data, IDetectorConfig config,
        Func<Tensor, IReadOnlyList<(int Height, int Width)>, IReadOnlyList<Detections>> detect, TextWriter log,
        CancellationToken cancel = default, int batchSize = 8)
    {
        var (result, dets) = DetectorEvaluation.Evaluate(detect, data.Val, Transform(config), batchSize, log, $"eval {label}", cancel);
        Coco.CocoResults.Save(run.Detections(label), dets);
        log.WriteLine($"{label}: AP {result.Stats[0]:F3}  AP50 {result.Stats[1]:F3}  AP75 {result.Stats[2]:F3} ({dets.Count} detections → {run.Detections(label)})");
        return result;
    }
}
