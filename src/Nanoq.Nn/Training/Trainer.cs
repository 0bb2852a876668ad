using System.Globalization;
using System.Text;
using Nanoq.Autograd;
using Nanoq.IO;
using Nanoq.Nn.Checkpoints;
using Nanoq.Nn.Optim;

namespace Nanoq.Nn.Training;

/// <summary>
/// The training loop any model with a loss uses (DESIGN.md §1, §4): SGD with momentum and weight decay on the model's
/// parameters — learned quantizer steps included, without weight decay — over a schedule (<see cref="TrainOptions"/>).
/// <list type="bullet">
/// <item>Checkpoints: the model's state dict (quantizer buffers included), the momentum buffers, the step and the loss
/// history, written atomically every <see cref="TrainOptions.CheckpointEvery"/> steps, at the end, on cancellation and on
/// divergence; a loss curve CSV beside it.</item>
/// <item>Resume: if the checkpoint exists, the run continues from it — the same command resumes, and because the batches
/// come from <c>batchesFrom(step)</c> (deterministic in the step), a resumed run sees the same batches as an unbroken one
/// and reaches bit-identical weights.</item>
/// <item>Cancellation (Ctrl-C, SIGTERM): a checkpoint, then <see cref="OperationCanceledException"/>.</item>
/// <item>Divergence: a loss term that is NaN or ±∞ stops the run before the optimizer step, and the buffers the forward
/// updated (batch-norm running statistics, EMA ranges) are put back as they were before it, so the checkpoint written
/// then holds the last finite state; <see cref="TrainingDivergedException"/> names the step and the term.</item>
/// </list>
/// </summary>
/// <typeparam name="TBatch">what one step consumes; disposed after the step (pooled buffers go back).</typeparam>
public sealed class Trainer<TBatch>(Module model, TrainOptions options, Func<TBatch, IReadOnlyList<(string Name, Var Value)>> loss,
                                    Func<int, IEnumerable<TBatch>> batchesFrom) where TBatch : IDisposable
{
    /// <summary>Called after each optimizer step, and once on resume, with the number of steps done.</summary>
    public Action<int>? AfterStep { get; init; }

    /// <summary>Progress after each step: steps done, the steps done when this process started, and a status line.</summary>
    public Action<int, int, string>? Progress { get; init; }

    /// <summary>The names of the loss terms, in order (from the first step, or from the checkpoint's history).</summary>
    public IReadOnlyList<string> TermNames => _terms;

    private string[] _terms = [];

    /// <summary>Returns the loss history (one point per step, including steps done before a resume).</summary>
    public IReadOnlyList<TrainPoint> Run(string checkpointPath, string tag, TextWriter log, CancellationToken cancel)
    {
        var sgd = new Sgd(model.NamedParameters(), options.Lr, options.Momentum, options.WeightDecay) { NoDecay = IsQuantizerParameter };
        var history = new List<TrainPoint>();
        int step = 0;
        if (File.Exists(checkpointPath))
        {
            step = Resume(checkpointPath, tag, sgd, history);
            if (step > options.Steps)
                throw new StateDictException($"{checkpointPath} holds {step} steps of '{tag}', more than the {options.Steps} asked for; " +
                                             "ask for at least as many steps, or remove it or choose another --out to start afresh.");
            AfterStep?.Invoke(step);
            log.WriteLine($"resuming from {checkpointPath} at step {step}/{options.Steps}");
        }
        var schedule = options.Schedule();
        int startStep = step;
        var buffers = model.NamedBuffers().Select(b => b.Buffer).ToArray();
        var before = buffers.Select(b => new float[b.Size]).ToArray(); // small: statistics and ranges, not weights
        model.Train();
        while (step < options.Steps)
        {
            bool any = false;
            foreach (var batch in batchesFrom(step))
            {
                any = true;
                sgd.Lr = schedule.At(step);
                for (int i = 0; i < buffers.Length; i++) buffers[i].Span.CopyTo(before[i]);
                float[] values;
                float total;
                using (new Tape())
                {
                    var terms = loss(batch);
                    if (_terms.Length == 0) _terms = terms.Select(t => t.Name).ToArray();
                    values = terms.Select(t => t.Value.Value.Span[0]).ToArray();
                    for (int i = 0; i < values.Length; i++)
                        if (!float.IsFinite(values[i]))
                        {
                            batch.Dispose();
                            for (int j = 0; j < buffers.Length; j++) before[j].CopyTo(buffers[j].Span);
                            Save(checkpointPath, tag, sgd, step, history);
                            throw new TrainingDivergedException(
                                $"{tag}: the loss term '{terms[i].Name}' is {values[i]} at step {step}; the last finite state (step {step}) is saved in {checkpointPath}. Lower the learning rate (--lr) and run again.");
                        }
                    var sum = terms.Skip(1).Aggregate(terms[0].Value, (s, t) => Fn.Add(s, t.Value));
                    total = sum.Value.Span[0];
                    sum.Backward();
                    sgd.Step();
                    sgd.ZeroGrad();
                }
                batch.Dispose(); // its pooled buffer serves the next batch
                history.Add(new TrainPoint(step, total, values, sgd.Lr));
                step++;
                AfterStep?.Invoke(step);
                double recent = history.Skip(Math.Max(0, history.Count - 20)).Average(p => p.Loss);
                Progress?.Invoke(step, startStep, string.Create(CultureInfo.InvariantCulture, $"loss {recent:F3} lr {sgd.Lr:G3}"));
                bool last = step == options.Steps;
                if (last || step % options.CheckpointEvery == 0 || cancel.IsCancellationRequested)
                    Save(checkpointPath, tag, sgd, step, history);
                if (cancel.IsCancellationRequested)
                    throw new OperationCanceledException($"{tag}: interrupted at step {step}; checkpoint saved to {checkpointPath} (run the same command to resume)");
                if (last) break;
            }
            if (!any) throw new ArgumentException($"{tag}: the data gave no batch at step {step} (fewer examples than one batch?).");
        }
        if (!File.Exists(checkpointPath)) Save(checkpointPath, tag, sgd, step, history); // a run of 0 steps still leaves its model
        return history;
    }

    /// <summary>Learned quantizer steps are not decayed (weight decay would shrink every grid).</summary>
    private static bool IsQuantizerParameter(string name) =>
        name.Contains(".weight_fake_quant.", StringComparison.Ordinal) || name.Contains(Taps.Tap.OutputQuantizerName + ".", StringComparison.Ordinal);

    private void Save(string path, string tag, Sgd sgd, int step, List<TrainPoint> history)
    {
        var tensors = new Dictionary<string, Tensor>();
        StateDicts.AddPrefixed(tensors, model.StateDict(), "model.");
        StateDicts.AddPrefixed(tensors, sgd.State(), "optim.");
        string csv = Csv(history);
        Safetensors.Save(path, tensors, new Dictionary<string, string>
        {
            ["tag"] = tag, ["step"] = step.ToString(CultureInfo.InvariantCulture), ["history"] = csv,
        });
        AtomicFile.WriteAllText(Path.ChangeExtension(path, ".csv"), csv);
    }

    private string Csv(List<TrainPoint> history)
    {
        var csv = new StringBuilder("step,loss");
        foreach (var t in _terms) csv.Append(',').Append(t);
        csv.Append(",lr\n");
        foreach (var p in history)
        {
            csv.Append(CultureInfo.InvariantCulture, $"{p.Step},{p.Loss:R}");
            foreach (var v in p.Terms) csv.Append(CultureInfo.InvariantCulture, $",{v:R}");
            csv.Append(CultureInfo.InvariantCulture, $",{p.Lr:R}\n");
        }
        return csv.ToString();
    }

    private int Resume(string path, string tag, Sgd sgd, List<TrainPoint> history)
    {
        var tensors = Safetensors.Load(path, out var meta);
        if (!meta.TryGetValue("tag", out var t) || t != tag)
            throw new StateDictException($"{path}: a checkpoint of '{t ?? "?"}', not of '{tag}'; remove it or choose another --out.");
        if (!meta.TryGetValue("step", out var stepText) || !int.TryParse(stepText, NumberStyles.None, CultureInfo.InvariantCulture, out int step))
            throw new StateDictException($"{path}: the metadata field \"step\" is missing or not a non-negative integer ('{stepText}').");
        try
        {
            model.LoadStateDict(StateDicts.Unprefixed(tensors, "model."));
            sgd.LoadState(StateDicts.Unprefixed(tensors, "optim."));
        }
        catch (StateDictException e)
        {
            throw new StateDictException($"{path}: {e.Message}", e);
        }
        var lines = meta.GetValueOrDefault("history", "").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length > 0)
        {
            var header = lines[0].Split(',');
            if (header.Length < 3 || header[0] != "step" || header[1] != "loss" || header[^1] != "lr")
                throw new StateDictException($"{path}: the metadata field \"history\" does not start with a step,loss,…,lr header.");
            _terms = header[2..^1];
        }
        foreach (var line in lines.Skip(1))
        {
            var f = line.Split(',');
            if (f.Length != _terms.Length + 3 || !int.TryParse(f[0], NumberStyles.None, CultureInfo.InvariantCulture, out int s)
                || !f.Skip(1).All(x => float.TryParse(x, NumberStyles.Float, CultureInfo.InvariantCulture, out _)))
                throw new StateDictException($"{path}: the metadata field \"history\" has a malformed line '{(line.Length > 60 ? line[..60] + "…" : line)}'.");
            history.Add(new TrainPoint(s, F(f[1]), f[2..^1].Select(F).ToArray(), F(f[^1])));
        }
        return step;
        static float F(string s) => float.Parse(s, CultureInfo.InvariantCulture);
    }
}
