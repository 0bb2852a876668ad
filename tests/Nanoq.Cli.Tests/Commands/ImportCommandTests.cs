using System.Text.Json.Nodes;
using Nanoq.Cli.Pipeline;

namespace Nanoq.Cli.Tests.Commands;

/// <summary>
/// The user path of issue 15 at tiny scale: torchvision weights (the fixtures of tools/gen_import_fixtures.py, made by
/// torchvision's own RetinaNet and FasterRCNN classes) → <c>nanoq import</c> → <c>quantize</c> → <c>convert</c> →
/// <c>eval</c>, on a COCO folder in the standard layout (annotations/instances_*2017.json, train2017/, val2017/).
/// </summary>
public sealed class ImportCommandTests : CliTest, IDisposable
{
    private readonly string _dir = TestData.TempDir("import");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "data", "torchvision-import", name);

    /// <summary>
    /// A tiny shapes set in COCO's own layout, keeping the categories 1–3 (the fixture models have torchvision labels
    /// 0–3, i.e. category ids 0–3; a category without a label is refused, which another test checks).
    /// </summary>
    private string CocoFolder(int maxCategory = 3)
    {
        var bundled = DataSplits.Resolve("shapes", Path.Combine(_dir, "cache"), TextWriter.Null, trainImages: 8, valImages: 6, imageSize: 96);
        string coco = Path.Combine(_dir, $"coco{maxCategory}");
        Directory.CreateDirectory(Path.Combine(coco, "annotations"));
        foreach (var (split, folder) in new[] { ("train", bundled.Train), ("val", bundled.Val) })
        {
            var doc = JsonNode.Parse(File.ReadAllText(Path.Combine(Path.GetDirectoryName(folder.ImagesDirectory)!, "instances.json")))!.AsObject();
            foreach (var (field, key) in new[] { ("annotations", "category_id"), ("categories", "id") })
            {
                var kept = doc[field]!.AsArray().Where(a => a![key]!.GetValue<long>() <= maxCategory).Select(a => a!.DeepClone()).ToArray();
                doc[field] = new JsonArray(kept);
            }
            File.WriteAllText(Path.Combine(coco, "annotations", $"instances_{split}2017.json"), doc.ToJsonString());
            string images = Path.Combine(coco, $"{split}2017");
            Directory.CreateDirectory(images);
            foreach (var f in Directory.GetFiles(folder.ImagesDirectory)) File.Copy(f, Path.Combine(images, Path.GetFileName(f)));
        }
        return coco;
    }

    private (int Code, string Out, string Err) Import(string stem, string arch, string outDir, params string[] more) =>
        Nanoq(["import", "--arch", arch, "--weights", Fixture(stem + ".safetensors"), "--num-classes", "4", "--min-size", "80", "--max-size", "133",
               "--width", "0.125", "--fpn-channels", "32", "--anchor-size", "16", "--out", outDir, .. more]);

    [Fact]
    public void Torchvision_weights_import_quantize_convert_and_evaluate_on_a_standard_coco_folder()
    {
        string coco = CocoFolder(), run = Path.Combine(_dir, "run");
        var imported = Import("retinanet_r18", "retinanet_resnet18_fpn", run, "--data", coco);
        Assert.True(imported.Code == 0, imported.Err);
        Assert.Contains("imported retinanet_resnet18_fpn", imported.Out);
        var info = new RunFolder(run).LoadModelInfo();
        Assert.Equal([0L, 1, 2, 3], info.CategoryIds!);
        Assert.Equal(["category 0", "rectangle", "ellipse", "triangle"], info.ClassNames); // names by id from --data
        Assert.True(info.Config.TorchvisionResize);

        // The float model as imported, evaluated (model.json remembers --data).
        var floatEval = Nanoq("eval", "--out", run, "--model", "float");
        Assert.True(floatEval.Code == 0, floatEval.Err);
        Assert.Contains("Average Precision  (AP) @[ IoU=0.50:0.95", floatEval.Out);
        var detections = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "detections-float.json")))!.AsArray();
        Assert.NotEmpty(detections);
        Assert.All(detections, d => Assert.InRange(d!["category_id"]!.GetValue<long>(), 0, 3));

        var quantized = Nanoq("quantize", "--out", run, "--steps", "2", "--batch", "2", "--n-cal", "1");
        Assert.True(quantized.Code == 0, quantized.Err);
        var converted = Nanoq("convert", "--out", run);
        Assert.True(converted.Code == 0, converted.Err);
        Assert.Contains("int4.nqm", converted.Out);
        var integer = Nanoq("eval", "--out", run, "--model", "integer", "--data", coco);
        Assert.True(integer.Code == 0, integer.Err);
        Assert.Contains("Average Precision  (AP) @[ IoU=0.50:0.95", integer.Out);
    }

    [Fact]
    public void Run_takes_an_imported_folder_from_its_later_stages_and_detect_draws_its_boxes()
    {
        string coco = CocoFolder(), run = Path.Combine(_dir, "run-stages");
        Assert.Equal(0, Import("retinanet_r18", "retinanet_resnet18_fpn", run, "--data", coco).Code);
        byte[] floatBefore = File.ReadAllBytes(Path.Combine(run, "float.safetensors"));
        var r = Nanoq("run", "--out", run, "--qat-steps", "2", "--batch", "2");
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("an imported model", r.Err);
        Assert.Contains("INT4 integer-only", r.Out);
        Assert.Equal(floatBefore, File.ReadAllBytes(Path.Combine(run, "float.safetensors"))); // not retrained

        string image = Directory.GetFiles(Path.Combine(coco, "val2017"))[0];
        var d = Nanoq("detect", "--out", run, "--image", image, "--model", "integer", "--save", Path.Combine(_dir, "boxes.png"));
        Assert.True(d.Code == 0, d.Err);
        Assert.True(File.Exists(Path.Combine(_dir, "boxes.png")));
    }

    [Fact]
    public void A_faster_rcnn_imports_with_torchvisions_class_count_and_evaluates()
    {
        string coco = CocoFolder(), run = Path.Combine(_dir, "frcnn");
        var imported = Import("fasterrcnn_r50", "fasterrcnn_resnet50_fpn", run, "--box-head", "64");
        Assert.True(imported.Code == 0, imported.Err);
        var info = new RunFolder(run).LoadModelInfo();
        Assert.Equal(3, info.Config.NumClasses);          // torchvision's num_classes = 4 counts the background
        Assert.Equal([1L, 2, 3], info.CategoryIds!);       // Nanoq class k is torchvision label k + 1
        var eval = Nanoq("eval", "--out", run, "--model", "float", "--data", coco);
        Assert.True(eval.Code == 0, eval.Err);
        var detections = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "detections-float.json")))!.AsArray();
        Assert.NotEmpty(detections);
        Assert.All(detections, d => Assert.InRange(d!["category_id"]!.GetValue<long>(), 1, 3));
    }

    [Fact]
    public void Bad_imports_are_refused_in_one_line_naming_what_is_wrong()
    {
        string run = Path.Combine(_dir, "bad");
        // torchvision's num_classes of another model: the predictor's shape, both shapes.
        var e = Nanoq("import", "--arch", "retinanet_resnet18_fpn", "--weights", Fixture("retinanet_r18.safetensors"), "--num-classes", "5",
                      "--min-size", "80", "--max-size", "133", "--width", "0.125", "--fpn-channels", "32", "--anchor-size", "16", "--out", run);
        Assert.Equal(2, e.Code);
        Assert.Contains("'head.classification_head.cls_logits.weight' has shape [36, 32, 3, 3]", e.Err);
        Assert.Single(e.Err.Trim().Split('\n'));
        Assert.False(File.Exists(Path.Combine(run, "model.json"))); // nothing written

        // The wrong architecture for the weights: a tensor it does not have.
        e = Import("retinanet_r18", "fasterrcnn_resnet18_fpn", run);
        Assert.Equal(2, e.Code);
        Assert.Contains("'backbone.fpn.inner_blocks.0.0.weight' has shape [32, 16, 1, 1]", e.Err); // C2 feeds Faster R-CNN's first lateral
        Assert.Contains("expects [32, 8, 1, 1]", e.Err);

        e = Nanoq("import", "--arch", "retinanet_mobilenet", "--weights", Fixture("retinanet_r18.safetensors"), "--num-classes", "4", "--out", run);
        Assert.Equal(2, e.Code);
        Assert.Contains("retinanet_resnet50_fpn", e.Err); // lists the known architectures

        e = Nanoq("import", "--arch", "retinanet_resnet18_fpn", "--weights", Path.Combine(_dir, "none.safetensors"), "--num-classes", "4", "--out", run);
        Assert.Equal(2, e.Code);
        Assert.Contains("none.safetensors not found", e.Err);

        e = Nanoq("import", "--arch", "retinanet_resnet18_fpn", "--weights", Fixture("retinanet_r18.safetensors"), "--out", run);
        Assert.Equal(2, e.Code);
        Assert.Contains("--num-classes", e.Err);
    }

    [Fact]
    public void Data_with_a_category_the_model_has_no_label_for_is_refused_naming_it()
    {
        string coco = CocoFolder(maxCategory: 5), run = Path.Combine(_dir, "cats");
        Assert.Equal(0, Import("retinanet_r18", "retinanet_resnet18_fpn", run).Code);
        var e = Nanoq("eval", "--out", run, "--model", "float", "--data", coco);
        Assert.Equal(2, e.Code);
        Assert.Contains("which the model has no class for", e.Err);
        Assert.Contains("category_id", e.Err);

        var noData = Nanoq("eval", "--out", run, "--model", "float");
        Assert.Equal(2, noData.Code);
        Assert.Contains("--data", noData.Err);
    }
}
