using System.Text.Json;
using Nanoq.Cli;

namespace Nanoq.Cli.Tests.Commands;

/// <summary>The main job end to end at tiny scale, and the one-line errors of bad arguments.</summary>
public sealed class RunCommandTests : CliTest, IDisposable
{
    private readonly string _dir = TestData.TempDir("run");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void QuickRunWritesEveryResultSetAndResumesInstantly()
    {
        string outDir = Path.Combine(_dir, "quick");
        var (code, stdout, stderr) = Nanoq("run", "--quick", "--out", outDir, "--cache", Path.Combine(_dir, "data"));
        Assert.True(code == 0, stderr);
        Assert.Contains("FP32", stdout);
        Assert.Contains("INT4", stdout);
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "summary.json")));
        var results = summary.RootElement.GetProperty("results");
        // The quick run is deterministic, so its numbers are pinned (measured 2026-12-06). After 40 steps the class
        // scores still sit near the prior π = 0.01, below the 0.05 threshold: no detection is kept and every one of the
        // 36 stats is exactly 0 (pycocotools' value with ground truth and no detections).
        foreach (var set in new[] { "float", "fake_quant", "integer" })
        {
            var r = results.GetProperty(set);
            foreach (var key in new[] { "AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl" })
                Assert.Equal(0.0, r.GetProperty(key).GetDouble());
        }
        // The loss curves carry the signal: last float step 1.6025722, last fine-tuning step 1.6401134 (measured). Tolerance
        // 1e-3 relative: the runs repeat bit for bit on one machine; another CPU's vector width changes float rounding at
        // ~1e-7 relative an op, which 50 SGD steps amplify to well under 1e-4 — 1e-3 still fails any change of the recipe,
        // the data or the loss.
        static double LastLoss(string csv) => double.Parse(File.ReadLines(csv).Last().Split(',')[1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(1.6025722, LastLoss(Path.Combine(outDir, "float.csv")), 1.6025722 * 1e-3);
        Assert.Equal(1.6401134, LastLoss(Path.Combine(outDir, "int4.csv")), 1.6401134 * 1e-3);
        Assert.True(summary.RootElement.GetProperty("stage_seconds").GetProperty("train_float").GetDouble() >= 0);
        foreach (var f in new[] { "float.safetensors", "int4.safetensors", "int4.nqm", "float-loss.png", "int4-loss.png", "preview-0-float.png", "detections-float.json" })
            Assert.True(File.Exists(Path.Combine(outDir, f)), f);

        // The same command again finds every checkpoint complete and only re-evaluates.
        var again = Nanoq("run", "--quick", "--out", outDir, "--cache", Path.Combine(_dir, "data"));
        Assert.Equal(0, again.Code);
        Assert.Contains("resuming", again.Err);
    }

    [Fact]
    public void QuickFasterRcnnRunGoesThroughEveryStageAndTheLaterCommandsReadItsDetector()
    {
        string outDir = Path.Combine(_dir, "frcnn");
        string cache = Path.Combine(_dir, "data");
        var (code, stdout, stderr) = Nanoq("run", "--quick", "--detector", "faster-rcnn", "--out", outDir, "--cache", cache, "--steps", "6", "--qat-steps", "2");
        Assert.True(code == 0, stderr);
        Assert.Contains("Faster R-CNN (resnet18 x0.25, 128 px)", stdout);
        Assert.Contains("INT4 integer-only", stdout);
        using var model = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "model.json")));
        Assert.Equal("faster-rcnn", model.RootElement.GetProperty("Detector").GetString());
        Assert.Equal(256, model.RootElement.GetProperty("Config").GetProperty("RepresentationSize").GetInt32());
        foreach (var f in new[] { "float.safetensors", "int4.safetensors", "int4.nqm", "detections-int4-integer.json" })
            Assert.True(File.Exists(Path.Combine(outDir, f)), f);

        // The integer program holds the RoI stage: RoIAlign on codes and the box head's fc layers.
        var list = Nanoq("inspect", "--out", outDir, "--audit", "list");
        Assert.True(list.Code == 0, list.Err);
        Assert.Contains("roialign", list.Out);
        Assert.Contains("box_head.fc6", list.Out);
        Assert.Contains("box_predictor.cls_score", list.Out);

        // Later commands take the detector from model.json; eval reproduces the run's integer numbers (deterministic).
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "summary.json")));
        double runAp = summary.RootElement.GetProperty("results").GetProperty("integer").GetProperty("AP").GetDouble();
        var eval = Nanoq("eval", "--out", outDir, "--model", "integer", "--detector", "faster-rcnn", "--data", Path.Combine(cache, "shapes-128px-160-40-seed0"), "--json");
        Assert.True(eval.Code == 0, eval.Err);
        using var evalJson = JsonDocument.Parse(eval.Out);
        Assert.Equal(runAp, Math.Round(evalJson.RootElement.GetProperty("AP").GetDouble(), 4));

        // A --detector that does not match the folder is refused, naming both.
        var wrong = Nanoq("eval", "--out", outDir, "--model", "float", "--detector", "retinanet");
        Assert.Equal(2, wrong.Code);
        Assert.Contains("holds a faster-rcnn", wrong.Err);
    }

    [Theory]
    [InlineData("--head-convs", "faster-rcnn", "--head-convs", "3")]
    [InlineData("--box-head", "retinanet", "--box-head", "64")]
    [InlineData("--detector", "yolo")]
    public void AModelOptionOfTheOtherDetectorIsRefusedNamingIt(string named, params string[] args)
    {
        var (code, _, stderr) = Nanoq(["train", "--steps", "1", "--out", Path.Combine(_dir, "x"), "--detector", .. args]);
        Assert.Equal(2, code);
        Assert.Contains(named, stderr);
        Assert.Single(stderr.Trim().Split('\n'));
    }

    [Theory]
    [InlineData("unknown data set", "train", "--data", "no-such-set")]
    [InlineData("bits out of range", "quantize", "--bits", "9")]
    [InlineData("unknown option", "run", "--frobnicate")]
    [InlineData("bad number", "train", "--steps", "many")]
    [InlineData("unknown command", "frobnicate")]
    public void BadArgumentsGiveOneLineAndNonZeroExit(string why, params string[] args)
    {
        var (code, _, stderr) = Nanoq(args);
        Assert.True(code != 0, why);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.StartsWith("nanoq", stderr);
    }

    [Fact]
    public void MissingDataFolderIsNamed()
    {
        string missing = Path.Combine(_dir, "no", "such", "folder");
        var (code, _, stderr) = Nanoq("train", "--data", missing, "--out", Path.Combine(_dir, "r"));
        Assert.Equal(2, code);
        Assert.Contains(missing, stderr);
        Assert.Single(stderr.Trim().Split('\n'));
    }

    [Fact]
    public void AFloatModelWhereAnIntegerOneIsNeededAndADamagedModelFileAreRefused()
    {
        // A run folder with a float checkpoint only.
        string run = Path.Combine(_dir, "quick2");
        Assert.Equal(0, Nanoq("run", "--quick", "--out", run, "--cache", Path.Combine(_dir, "data"), "--steps", "2", "--qat-steps", "1").Code);
        string image = Directory.GetFiles(Path.Combine(_dir, "data"), "*.png", SearchOption.AllDirectories)[0];

        // The float checkpoint given where the integer model file belongs.
        File.Copy(Path.Combine(run, "float.safetensors"), Path.Combine(run, "int4.nqm"), overwrite: true);
        var wrongKind = Nanoq("detect", "--out", run, "--image", image, "--model", "integer");
        Assert.NotEqual(0, wrongKind.Code);
        Assert.Contains("int4.nqm", wrongKind.Err);
        Assert.Single(wrongKind.Err.Trim().Split('\n'));

        // A damaged integer model file (one payload byte flipped).
        Assert.Equal(0, Nanoq("convert", "--out", run, "--no-eval").Code);
        var bytes = File.ReadAllBytes(Path.Combine(run, "int4.nqm"));
        bytes[bytes.Length / 2] ^= 0x40;
        File.WriteAllBytes(Path.Combine(run, "int4.nqm"), bytes);
        var damaged = Nanoq("detect", "--out", run, "--image", image, "--model", "integer");
        Assert.NotEqual(0, damaged.Code);
        Assert.Contains("int4.nqm", damaged.Err);
        Assert.Single(damaged.Err.Trim().Split('\n'));

        // A model the integer runtime cannot take (XNOR's sign activations): refused in one line, not a crash.
        string data = Directory.GetDirectories(Path.Combine(_dir, "data"))[0];
        Assert.Equal(0, Nanoq("quantize", "--out", run, "--data", data, "--recipe", "xnor", "--steps", "1").Code);
        var xnor = Nanoq("convert", "--out", run, "--recipe", "xnor", "--no-eval");
        Assert.Equal(2, xnor.Code);
        Assert.Contains("affine", xnor.Err);
        Assert.Single(xnor.Err.Trim().Split('\n'));
    }

    [Fact]
    public void MissingRunFolderSaysWhatToDo()
    {
        var (code, _, stderr) = Nanoq("quantize", "--out", Path.Combine(_dir, "nothing-here"), "--data", "shapes", "--steps", "1");
        Assert.NotEqual(0, code);
        Assert.Contains("nanoq train", stderr);
    }
}
