using System.Globalization;
using System.Text;
using Nanoq.Autograd;
using Nanoq.Cli.Terminal;
using Nanoq.Coco.Data;
using Nanoq.Detection;
using Nanoq.IO;
using Nanoq.Nn.Checkpoints;
using Nanoq.Nn.Optim;

namespace Nanoq.Cli.Pipeline;

/// <summary>
/// Trains a <see cref="RetinaNet"/> (float, or with quantization taps installed: the same loop fine-tunes) with SGD.
/// Progress shows the rate, ETA and running loss. The checkpoint (model state, momentum buffers, step, loss history) is
/// written atomically every <see cref="TrainOptions.CheckpointEvery"/> steps, at the end and when cancelled (Ctrl-C);
/// if the checkpoint file exists when training starts, the run continues from it — the same command resumes, and
/// because data order and flips derive from (seed, epoch), a resumed run sees the same batches as an unbroken one.
/// </summary>
public sealed class DetectorTrainer(RetinaNet model, CocoFolder data, TransformOptions transform, TrainOptions options)
{
    public sealed record Point(int Step, float Loss, float Classification, float Box, float Lr);

    /// <summary>Called after each optimizer step, and once on resume, with the number of steps done.</summary>
    public Action<int>? AfterStep { get; init; }

    /// <summary>State beyond the model's (quantizer ranges) saved in the checkpoint as "extra.*" …</summary>
    public Func<Dictionary<string, Tensor>>? ExtraState { get; init; }

    /// <summary>… and restored from it on resume.</summary>
    public Action<IReadOnlyDictionary<string, Tensor>>? LoadExtraState { get; init; }

    /// <summary>Returns the loss history (one point per step, including steps done before a resume).</summary>
    public IReadOnlyList<Point> Run(string checkpointPath, string tag, TextWriter log, CancellationToken cancel)
    {
        var sgd = new Sgd(model.NamedParameters(), options.Lr, options.Momentum, options.WeightDecay);
        var history = new List<Point>();
        int step = 0;
        if (File.Exists(checkpointPath))
        {
            step = Resume(checkpointPath, tag, sgd, history);
            // A longer run's checkpoint would otherwise pass silently for this shorter one (an ablation row of 300 steps
            // finding a 1500-step fine-tuning of the same recipe).
            if (step > options.Steps)
                throw new Nn.StateDictException($"{checkpointPath} holds {step} steps of '{tag}', more than the {options.Steps} asked for; " +
                                                "ask for at least as many steps, or remove it or choose another --out to start afresh.");
            AfterStep?.Invoke(step);
            log.WriteLine($"resuming from {checkpointPath} at step {step}/{options.Steps}");
        }
        var schedule = options.WarmupSteps == 0 && options.Milestones.Length == 0
            ? (LrSchedule)new LrSchedule.Constant(options.Lr)
            : new LrSchedule.WarmupStep(options.Lr, options.WarmupSteps, 0.001f, options.Milestones.Select(m => (int)(m * options.Steps)).ToArray());
        var loader = new CocoDataLoader(data, transform with { FlipProbability = options.FlipProbability }, options.BatchSize,
                                        shuffle: true, options.Seed, sizeDivisibility: 32, dropLast: true);
        int perEpoch = loader.BatchesPerEpoch;
        if (perEpoch == 0) throw new ArgumentException($"{data.Count} training images are fewer than one batch of {options.BatchSize}.");
        var bar = new ProgressBar(log, tag, options.Steps, "step");
        int startStep = step;
        model.Train();
        while (step < options.Steps)
        {
            foreach (var batch in loader.Epoch(step / perEpoch, step % perEpoch))
            {
                sgd.Lr = schedule.At(step);
                var targets = Targets(batch, data.Categories);
                float loss, cls, box;
                using (new Tape())
                {
                    var o = model.Forward(new Var(Tensor.FromArray(batch.Data, batch.N, batch.C, batch.H, batch.W)));
                    var l = model.Loss(o, targets);
                    var total = l.Total;
                    total.Backward();
                    sgd.Step();
                    sgd.ZeroGrad();
                    (loss, cls, box) = (total.Value.Span[0], l.Classification.Value.Span[0], l.BoxRegression.Value.Span[0]);
                }
                batch.Dispose(); // its pooled buffer serves the next batch
                if (!float.IsFinite(loss))
                    throw new InvalidOperationException($"{tag}: the loss diverged (={loss}) at step {step}; lower the learning rate (--lr).");
                history.Add(new Point(step, loss, cls, box, sgd.Lr));
                step++;
                AfterStep?.Invoke(step);
                double recent = history.Skip(Math.Max(0, history.Count - 20)).Average(p => p.Loss);
                bar.Report(step, $"loss {recent:F3} lr {sgd.Lr:G3}", startStep);
                bool last = step == options.Steps;
                if (last || step % options.CheckpointEvery == 0 || cancel.IsCancellationRequested)
                    Save(checkpointPath, tag, sgd, step, history);
                if (cancel.IsCancellationRequested)
                    throw new OperationCanceledException($"{tag}: interrupted at step {step}; checkpoint saved to {checkpointPath} (run the same command to resume)");
                if (last) break;
            }
        }
        return history;
    }

    /// <summary>A batch's ground truth as detector targets: boxes in the transformed image, contiguous labels, crowds left out.</summary>
    public static DetectionTarget[] Targets(ImageBatch batch, CategoryMap categories)
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

    private void Save(string path, string tag, Sgd sgd, int step, List<Point> history)
    {
        var tensors = new Dictionary<string, Tensor>();
        foreach (var (k, v) in model.StateDict()) tensors["model." + k] = v;
        foreach (var (k, v) in sgd.State()) tensors["optim." + k] = v;
        if (ExtraState is not null) foreach (var (k, v) in ExtraState()) tensors["extra." + k] = v;
        var csv = new StringBuilder("step,loss,cls,box,lr\n");
        foreach (var p in history)
            csv.Append(CultureInfo.InvariantCulture, $"{p.Step},{p.Loss:R},{p.Classification:R},{p.Box:R},{p.Lr:R}\n");
        Safetensors.Save(path, tensors, new Dictionary<string, string>
        {
            ["tag"] = tag, ["step"] = step.ToString(CultureInfo.InvariantCulture), ["history"] = csv.ToString(),
        });
        AtomicFile.WriteAllText(Path.ChangeExtension(path, ".csv"), csv.ToString());
    }

    private int Resume(string path, string tag, Sgd sgd, List<Point> history)
    {
        var tensors = Safetensors.Load(path, out var meta);
        if (!meta.TryGetValue("tag", out var t) || t != tag)
            throw new Nn.StateDictException($"{path}: a checkpoint of '{(t ?? "?")}', not of '{tag}'; remove it or choose another --out.");
        model.LoadStateDict(Prefixed(tensors, "model."));
        sgd.LoadState(Prefixed(tensors, "optim."));
        LoadExtraState?.Invoke(Prefixed(tensors, "extra."));
        foreach (var line in meta.GetValueOrDefault("history", "").Split('\n').Skip(1))
        {
            var f = line.Split(',');
            if (f.Length != 5) continue;
            history.Add(new Point(int.Parse(f[0], CultureInfo.InvariantCulture), F(f[1]), F(f[2]), F(f[3]), F(f[4])));
        }
        return int.Parse(meta["step"], CultureInfo.InvariantCulture);
        static float F(string s) => float.Parse(s, CultureInfo.InvariantCulture);
    }

    private static Dictionary<string, Tensor> Prefixed(Dictionary<string, Tensor> all, string prefix) =>
        all.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value);
}
