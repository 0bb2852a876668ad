using Nanoq.Cli.Pipeline;
using Nanoq.Detection;

namespace Nanoq.Cli.Tests.Commands;

/// <summary>Issue 19's run-folder findings, each reproduced as a test: locks, stale temporaries, model.json, architecture changes, exit codes.</summary>
public sealed class RunFolderHardeningTests : CliTest, IDisposable
{
    private readonly string _dir = TestData.TempDir("runfolder");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static RunFolder.ModelInfo Info(int classes = 2) =>
        new(RetinaNetConfig.Small(classes), Enumerable.Range(0, classes).Select(i => $"c{i}").ToArray(), "shapes");

    [Fact]
    public void A_second_writer_of_one_run_folder_is_refused_and_the_lock_goes_with_the_first()
    {
        using var first = new RunFolder(_dir);
        first.BeginWriting(TextWriter.Null);
        using var second = new RunFolder(_dir);
        var e = Assert.ThrowsAny<Exception>(() => second.BeginWriting(TextWriter.Null));
        Assert.Contains("in use", e.Message);
        first.Dispose();
        second.BeginWriting(TextWriter.Null); // free again
    }

    [Fact]
    public void Temporary_files_of_killed_writes_are_removed_on_start()
    {
        // AtomicFile's temporary name: .NAME.PID.GUID.tmp, from a process that no longer runs, idle past the grace time.
        string stale = Path.Combine(_dir, $".float.safetensors.{int.MaxValue - 7}.{Guid.NewGuid():N}.tmp");
        File.WriteAllText(stale, "half a checkpoint");
        File.SetLastWriteTimeUtc(stale, DateTime.UtcNow.AddHours(-2));
        var log = new StringWriter();
        using var run = new RunFolder(_dir);
        run.BeginWriting(log);
        Assert.False(File.Exists(stale));
        Assert.Contains("removed 1 temporary file", log.ToString());
    }

    [Fact]
    public void Training_another_architecture_into_a_used_folder_is_refused_before_model_json_changes()
    {
        using var run = new RunFolder(_dir);
        run.SaveModelInfo(Info());
        File.WriteAllText(run.FloatCheckpoint, "a trained model");
        string before = File.ReadAllText(run.ModelJson);
        var e = Assert.ThrowsAny<Exception>(() => run.SaveModelInfo(Info() with { Config = RetinaNetConfig.Small(2) with { Backbone = "resnet34" } }));
        Assert.Contains("another configuration", e.Message);
        Assert.Equal(before, File.ReadAllText(run.ModelJson));
    }

    [Fact]
    public void Model_json_records_the_detector_and_one_written_before_faster_rcnn_reads_as_a_retinanet()
    {
        using var run = new RunFolder(_dir);
        var frcnn = new RunFolder.ModelInfo(FasterRcnnConfig.Small(2) with { RepresentationSize = 96 }, ["a", "b"], "shapes");
        run.SaveModelInfo(frcnn);
        Assert.Contains("\"Detector\": \"faster-rcnn\"", File.ReadAllText(run.ModelJson));
        var back = run.LoadModelInfo();
        Assert.Equal(frcnn.Config, back.Config);
        Assert.Equal("faster-rcnn", back.Detector);

        // The layout before the field existed: {"Config": {RetinaNet's fields}, "ClassNames", "Data"}.
        File.WriteAllText(run.ModelJson, "{\"Config\": " + System.Text.Json.JsonSerializer.Serialize(RetinaNetConfig.Small(2)) + ", \"ClassNames\": [\"a\", \"b\"], \"Data\": \"shapes\"}");
        Assert.Equal(RetinaNetConfig.Small(2), run.LoadModelInfo().Config);
    }

    [Fact]
    public void Training_the_other_detector_into_a_used_folder_is_refused()
    {
        using var run = new RunFolder(_dir);
        run.SaveModelInfo(Info());
        File.WriteAllText(run.FloatCheckpoint, "a trained model");
        var e = Assert.ThrowsAny<Exception>(() => run.SaveModelInfo(Info() with { Config = FasterRcnnConfig.Small(2) }));
        Assert.Contains("faster-rcnn", e.Message);
        Assert.Contains("retinanet", e.Message);
    }

    [Theory]
    [InlineData("{\"Detector\": \"yolo\", \"Config\": {}, \"ClassNames\": [\"a\"], \"Data\": \"shapes\"}", "\"Detector\"")]
    [InlineData("{\"Detector\": \"faster-rcnn\", \"Config\": {\"Backbone\": \"vgg\"}, \"ClassNames\": [\"a\"], \"Data\": \"shapes\"}", "Backbone")]
    public void A_model_json_naming_an_unknown_detector_or_a_bad_field_is_refused(string json, string field)
    {
        File.WriteAllText(Path.Combine(_dir, "model.json"), json);
        using var run = new RunFolder(_dir);
        var e = Assert.Throws<Nn.StateDictException>(() => run.LoadModelInfo());
        Assert.Contains(field, e.Message);
        Assert.Contains("model.json", e.Message);
    }

    [Theory]
    [InlineData("{\"Config\": null, \"ClassNames\": [\"a\"], \"Data\": \"shapes\"}", "\"Config\"")]
    [InlineData("{\"ClassNames\": [\"a\"], \"Data\": \"shapes\"}", "\"Config\"")]
    [InlineData("null", "empty")]
    public void A_broken_model_json_is_an_error_naming_the_file_and_field(string json, string field)
    {
        File.WriteAllText(Path.Combine(_dir, "model.json"), json);
        var (code, _, err) = Nanoq("quantize", "--out", _dir);
        Assert.Equal(2, code);
        Assert.Contains(Path.Combine(_dir, "model.json"), err);
        Assert.Contains(field, err);
        Assert.Single(err.Trim().Split('\n'));
    }

    [Fact]
    public void Class_names_that_do_not_fit_the_classes_are_refused()
    {
        using var run = new RunFolder(_dir);
        run.SaveModelInfo(Info() with { ClassNames = [] });
        var e = Assert.Throws<Nn.StateDictException>(() => run.LoadModelInfo());
        Assert.Contains("ClassNames", e.Message);
    }

    [Fact]
    public void A_damaged_integer_model_exits_2_like_other_bad_input()
    {
        using (var run = new RunFolder(_dir)) run.SaveModelInfo(Info());
        File.WriteAllBytes(Path.Combine(_dir, "int4.nqm"), [0x4E, 0x51, 0x49, 0x4D, 2, 0, 0, 0, 1, 2, 3]);
        string image = Path.Combine(_dir, "x.png");
        File.WriteAllBytes(image, Coco.Imaging.ImageCodec.EncodePng(new Coco.Imaging.RgbImage(8, 8)));
        var (code, _, err) = Nanoq("detect", "--out", _dir, "--image", image, "--model", "integer");
        Assert.Equal(2, code);
        Assert.Contains("int4.nqm", err);
    }

    [Fact]
    public void Run_accepts_the_training_options_it_advises()
    {
        var (code, _, err) = Nanoq("run", "--lr", "0.01", "--batch", "4", "--steps", "many");
        Assert.Equal(2, code);
        Assert.Contains("--steps", err); // --lr and --batch were taken; the bad number is the one reported
    }
}
