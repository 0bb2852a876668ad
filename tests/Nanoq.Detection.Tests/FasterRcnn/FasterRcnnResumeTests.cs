using Nanoq.Nn.Training;

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
