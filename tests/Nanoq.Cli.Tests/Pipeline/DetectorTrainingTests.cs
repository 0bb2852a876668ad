using Nanoq.Cli.Pipeline;
using Nanoq.Coco.Data;
using Nanoq.Coco.Datasets;
using Nanoq.Detection;
using Nanoq.Nn.Training;
using Nanoq.Quant;

namespace Nanoq.Cli.Tests.Pipeline;

/// <summary>Checkpoint, interrupt and resume of the detector trainer, at tiny scale.</summary>
public sealed class DetectorTrainingTests : IDisposable
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

    private static IReadOnlyList<TrainPoint> Train(IDetector d, CocoFolder data, TrainOptions o, string path, string tag,
        CancellationToken cancel = default, Action<int>? afterStep = null) =>
        DetectorTraining.Train(d, o, Stages.TrainingBatches(data, Transform, o), path, tag, TextWriter.Null, cancel, afterStep: afterStep);

    [Fact]
    public void InterruptedRunResumesToTheSameWeightsAsAnUnbrokenOne()
    {
        var data = Data();
        var a = new RetinaNet(Tiny(data.Categories.Count), seed: 5);
        var history = Train(a, data, Options, Path.Combine(_dir, "a.safetensors"), "float");
        Assert.Equal(6, history.Count);

        // Cancel after the first step: the trainer checkpoints (step 1) and throws.
        var b = new RetinaNet(Tiny(data.Categories.Count), seed: 5);
        using var cts = new CancellationTokenSource();
        string path = Path.Combine(_dir, "b.safetensors");
        var ex = Assert.Throws<OperationCanceledException>(() => Train(b, data, Options, path, "float", cts.Token, _ => cts.Cancel()));
        Assert.Contains("resume", ex.Message);
        Assert.True(File.Exists(path));

        // A fresh process (a fresh model object) resumes from the checkpoint and finishes.
        var c = new RetinaNet(Tiny(data.Categories.Count), seed: 99);
        var resumed = Train(c, data, Options, path, "float");
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
        Train(m, data, Options with { Steps = 1 }, path, "float");
        var ex = Assert.Throws<Nn.StateDictException>(() => Train(m, data, Options, path, "qat-FQN-int4"));
        Assert.Contains("float", ex.Message);
    }

    [Fact]
    public void ACheckpointOfALongerRunIsRefusedNotPassedOffAsAShorterOne()
    {
        var data = Data();
        var m = new RetinaNet(Tiny(data.Categories.Count), seed: 1);
        string path = Path.Combine(_dir, "long.safetensors");
        Train(m, data, Options with { Steps = 3 }, path, "float");
        var ex = Assert.Throws<Nn.StateDictException>(() => Train(m, data, Options with { Steps = 2 }, path, "float"));
        Assert.Contains("3 steps", ex.Message);
        Assert.Contains(path, ex.Message);
        // Asking for as many steps (or more) resumes as before.
        Assert.Equal(3, Train(m, data, Options with { Steps = 3 }, path, "float").Count);
    }

    [Theory]
    [InlineData("fqn")]
    [InlineData("lsq")]
    public void Interrupted_fine_tuning_resumes_to_the_same_weights_and_grids(string method)
    {
        // The quantizers are modules: the checkpoint alone restores calibrated ranges, learned steps and the EMA state.
        var data = Data();
        var recipe = (method == "lsq" ? QuantRecipe.Lsq(4) : QuantRecipe.Fqn(4) with { P = false }) with { Steps = 4, CalibrationBatches = 2 };
        var floatOpts = Options with { Steps = 4, WarmupSteps = 0, Milestones = [] };
        RetinaNet Fresh() => new(Tiny(data.Categories.Count), seed: 7);
        QuantRegistry FineTune(RetinaNet m, string path, CancellationToken cancel = default, Action<int, int, string>? progress = null) =>
            DetectorTraining.FineTune(m, recipe, floatOpts, Stages.CalibrationBatches(data, Transform, floatOpts),
                Stages.TrainingBatches(data, Transform, floatOpts), path, "qat", TextWriter.Null, cancel, progress);

        var a = Fresh();
        FineTune(a, Path.Combine(_dir, "qa.safetensors"));
        var b = Fresh();
        using var cts = new CancellationTokenSource();
        string path = Path.Combine(_dir, "qb.safetensors");
        Assert.Throws<OperationCanceledException>(() => FineTune(b, path, cts.Token, (step, _, _) => { if (step == 2) cts.Cancel(); }));
        var c = Fresh();
        FineTune(c, path); // resumes: no calibration, state from the checkpoint
        var sa = a.StateDict();
        Assert.Contains(sa.Keys, k => k.EndsWith("activation_post_process.scale", StringComparison.Ordinal));
        foreach (var (name, t) in sa)
            Assert.True(t.ToArray().AsSpan().SequenceEqual(c.StateDict()[name].ToArray()), name);
    }

    [Theory]
    [InlineData("step", null)]
    [InlineData("step", "abc")]
    [InlineData("step", "-5")]
    [InlineData("history", "step,loss\n1,2,3")]
    [InlineData("history", "step,loss,classification,box,lr\n0,1,2")]
    public void Broken_checkpoint_metadata_is_an_error_naming_the_file_and_field(string field, string? value)
    {
        // Issue 19 finding 4: a missing, non-numeric or negative step, or a bad history, crashed the resume.
        var data = Data();
        var m = new RetinaNet(Tiny(data.Categories.Count), seed: 1);
        string path = Path.Combine(_dir, "meta.safetensors");
        Train(m, data, Options with { Steps = 1 }, path, "float");
        var tensors = Nn.Checkpoints.Safetensors.Load(path, out var meta);
        if (value is null) meta.Remove(field);
        else meta[field] = value;
        Nn.Checkpoints.Safetensors.Save(path, tensors, meta);
        var e = Assert.Throws<Nn.StateDictException>(() => Train(m, data, Options with { Steps = 2 }, path, "float"));
        Assert.Contains(path, e.Message);
        Assert.Contains($"\"{field}\"", e.Message);
    }

    [Fact]
    public void A_diverging_run_stops_naming_the_step_and_the_term_and_keeps_the_last_finite_state()
    {
        var data = Data();
        var m = new RetinaNet(Tiny(data.Categories.Count), seed: 3);
        string path = Path.Combine(_dir, "nan.safetensors");
        var opts = Options with { Steps = 50, Lr = 1e6f, WarmupSteps = 0, Milestones = [] };
        var e = Assert.Throws<TrainingDivergedException>(() => Train(m, data, opts, path, "float"));
        Assert.Matches("loss term '(classification|box)' is (NaN|∞|-∞|Infinity|-Infinity) at step [0-9]+", e.Message);
        Assert.Contains(path, e.Message);
        var saved = Nn.Checkpoints.Safetensors.Load(path);
        Assert.All(saved.Where(kv => kv.Key.StartsWith("model.", StringComparison.Ordinal)), kv => Assert.All(kv.Value.ToArray(), v => Assert.True(float.IsFinite(v), kv.Key)));
    }
}
