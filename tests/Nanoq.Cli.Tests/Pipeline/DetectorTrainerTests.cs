using Nanoq.Cli.Pipeline;
using Nanoq.Coco.Data;
using Nanoq.Coco.Datasets;
using Nanoq.Detection;

namespace Nanoq.Cli.Tests.Pipeline;

/// <summary>Checkpoint, interrupt and resume of the detector trainer, at tiny scale.</summary>
public sealed class DetectorTrainerTests : IDisposable
{
    private readonly string _dir = TestData.TempDir("trainer");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static RetinaNetConfig Tiny(int classes) =>
        RetinaNetConfig.Small(classes) with { BackboneWidth = 0.125f, FpnChannels = 8, HeadConvs = 1, InputSize = 64 };

    private CocoFolder Data()
    {
        string d = Path.Combine(_dir, "data");
        if (!Directory.Exists(d)) BundledDatasets.Write(BundledDatasets.Create("shapes", 64, 3), d, 12, 4, 3);
        return CocoFolder.OpenLayout(Path.Combine(d, "train"));
    }

    private static TransformOptions Transform => new() { ShorterSide = 64, MaxLongerSide = 64 };

    private static TrainOptions Options => new() { Steps = 6, BatchSize = 4, Lr = 0.01f, WarmupSteps = 2, CheckpointEvery = 3 };

    [Fact]
    public void InterruptedRunResumesToTheSameWeightsAsAnUnbrokenOne()
    {
        var data = Data();
        var a = new RetinaNet(Tiny(data.Categories.Count), seed: 5);
        var history = new DetectorTrainer(a, data, Transform, Options).Run(Path.Combine(_dir, "a.safetensors"), "float", TextWriter.Null, default);
        Assert.Equal(6, history.Count);

        // Cancel after the first step: the trainer checkpoints (step 1) and throws.
        var b = new RetinaNet(Tiny(data.Categories.Count), seed: 5);
        using var cts = new CancellationTokenSource();
        var trainer = new DetectorTrainer(b, data, Transform, Options) { AfterStep = _ => cts.Cancel() };
        string path = Path.Combine(_dir, "b.safetensors");
        var ex = Assert.Throws<OperationCanceledException>(() => trainer.Run(path, "float", TextWriter.Null, cts.Token));
        Assert.Contains("resume", ex.Message);
        Assert.True(File.Exists(path));

        // A fresh process (a fresh model object) resumes from the checkpoint and finishes.
        var c = new RetinaNet(Tiny(data.Categories.Count), seed: 99);
        var resumed = new DetectorTrainer(c, data, Transform, Options).Run(path, "float", TextWriter.Null, default);
        Assert.Equal(6, resumed.Count);
        foreach (var (name, t) in a.StateDict())
            Assert.Equal(t.ToArray(), c.StateDict()[name].ToArray());
        Assert.Equal(history.Select(p => p.Loss), resumed.Select(p => p.Loss));
    }

    [Fact]
    public void ACheckpointOfAnotherStageIsRefused()
    {
        var data = Data();
        var m = new RetinaNet(Tiny(data.Categories.Count), seed: 1);
        string path = Path.Combine(_dir, "x.safetensors");
        new DetectorTrainer(m, data, Transform, Options with { Steps = 1 }).Run(path, "float", TextWriter.Null, default);
        var ex = Assert.Throws<Nn.StateDictException>(() =>
            new DetectorTrainer(m, data, Transform, Options).Run(path, "qat-FQN-int4", TextWriter.Null, default));
        Assert.Contains("float", ex.Message);
    }

    [Fact]
    public void ACheckpointOfALongerRunIsRefusedNotPassedOffAsAShorterOne()
    {
        var data = Data();
        var m = new RetinaNet(Tiny(data.Categories.Count), seed: 1);
        string path = Path.Combine(_dir, "long.safetensors");
        new DetectorTrainer(m, data, Transform, Options with { Steps = 3 }).Run(path, "float", TextWriter.Null, default);
        var ex = Assert.Throws<Nn.StateDictException>(() =>
            new DetectorTrainer(m, data, Transform, Options with { Steps = 2 }).Run(path, "float", TextWriter.Null, default));
        Assert.Contains("3 steps", ex.Message);
        Assert.Contains(path, ex.Message);
        // Asking for as many steps (or more) resumes as before.
        Assert.Equal(3, new DetectorTrainer(m, data, Transform, Options with { Steps = 3 }).Run(path, "float", TextWriter.Null, default).Count);
    }
}
