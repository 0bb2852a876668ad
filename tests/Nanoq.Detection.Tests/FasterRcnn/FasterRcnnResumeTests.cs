using Nanoq.Nn.Training;
using Nanoq.Quant;

namespace Nanoq.Detection.Tests.FasterRcnn;

/// <summary>
/// Interrupt and resume of Faster R-CNN training: its samplers draw from the step (<see cref="IStepSeeded"/>), so a
/// resumed run reaches the weights of an unbroken one bit for bit.
/// </summary>
public sealed class FasterRcnnResumeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nanoq-frcnn-resume-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static TrainOptions Options => new() { Steps = 4, BatchSize = 2, Lr = 0.01f, WarmupSteps = 1, Milestones = [], CheckpointEvery = 2 };

    /// <summary>Batches deterministic in the step, as the pipeline's are.</summary>
    private static IEnumerable<DetectionBatch> From(int step)
    {
        for (int s = step; ; s++)
        {
            var (images, targets) = FasterRcnnTests.Batch(new Rng(100 + (ulong)s), 2, 64);
            yield return new DetectionBatch(images, targets);
        }
    }

    private static IReadOnlyList<TrainPoint> Train(Detection.FasterRcnn d, string path, CancellationToken cancel = default, Action<int>? afterStep = null) =>
        DetectorTraining.Train(d, Options, From, path, "float", TextWriter.Null, cancel, afterStep: afterStep);

    [Fact]
    public void Interrupted_training_resumes_to_bit_identical_weights()
    {
        var a = new Detection.FasterRcnn(FasterRcnnTests.Tiny, seed: 5);
        var history = Train(a, Path.Combine(_dir, "a.safetensors"));
        Assert.Equal(4, history.Count);
        Assert.Equal(4, history[0].Terms.Length); // objectness, rpn_box, classification, box

        var b = new Detection.FasterRcnn(FasterRcnnTests.Tiny, seed: 5);
        using var cts = new CancellationTokenSource();
        string path = Path.Combine(_dir, "b.safetensors");
        Assert.Throws<OperationCanceledException>(() => Train(b, path, cts.Token, step => { if (step == 1) cts.Cancel(); }));
        Assert.True(File.Exists(path));

        // A fresh model object (another init seed: the checkpoint restores everything) finishes the run.
        var c = new Detection.FasterRcnn(FasterRcnnTests.Tiny, seed: 99);
        var resumed = Train(c, path);
        Assert.Equal(4, resumed.Count);
        Assert.Equal(history.Select(p => p.Loss), resumed.Select(p => p.Loss));
        var sc = c.StateDict();
        foreach (var (name, t) in a.StateDict())
            Assert.True(t.ToArray().AsSpan().SequenceEqual(sc[name].ToArray()), name);
    }

    [Fact]
    public void Interrupted_fqn_fine_tuning_resumes_to_the_same_weights_and_grids()
    {
        // The quantizers are modules: the checkpoint alone restores the calibrated ranges; the samplers follow the step.
        var recipe = QuantRecipe.Fqn(4) with { Steps = 4, CalibrationBatches = 2 };
        var opts = Options with { WarmupSteps = 0 };
        QuantRegistry FineTune(Detection.FasterRcnn m, string path, CancellationToken cancel = default, Action<int, int, string>? progress = null) =>
            DetectorTraining.FineTune(m, recipe, opts, From(50).Take(2), From, path, "qat", TextWriter.Null, cancel, progress);

        var a = new Detection.FasterRcnn(FasterRcnnTests.Tiny, seed: 7);
        FineTune(a, Path.Combine(_dir, "qa.safetensors"));
        var b = new Detection.FasterRcnn(FasterRcnnTests.Tiny, seed: 7);
        using var cts = new CancellationTokenSource();
        string path = Path.Combine(_dir, "qb.safetensors");
        Assert.Throws<OperationCanceledException>(() => FineTune(b, path, cts.Token, (step, _, _) => { if (step == 2) cts.Cancel(); }));
        var c = new Detection.FasterRcnn(FasterRcnnTests.Tiny, seed: 7);
        FineTune(c, path); // resumes: no calibration, state from the checkpoint
        var sa = a.StateDict();
        Assert.Contains(sa.Keys, k => k == "roi_pool.activation_post_process.scale");
        var sc = c.StateDict();
        foreach (var (name, t) in sa)
            Assert.True(t.ToArray().AsSpan().SequenceEqual(sc[name].ToArray()), name);
    }

    [Fact]
    public void The_samplers_draw_from_the_step()
    {
        // Same weights, same batch: the loss depends on the step only through the sampled anchors and RoIs.
        var m = new Detection.FasterRcnn(FasterRcnnTests.Tiny, seed: 6);
        var (images, targets) = FasterRcnnTests.Batch(new Rng(1), 2, 64);
        float LossAt(int step)
        {
            m.Step = step;
            using var tape = new Autograd.Tape();
            return m.Loss(m.Forward(new Autograd.Var(images)), targets).Total.Value.Span[0];
        }
        float l0 = LossAt(0), l1 = LossAt(1);
        Assert.Equal(l0, LossAt(0));
        Assert.NotEqual(l0, l1);
    }
}
