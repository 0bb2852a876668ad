using System.Text.Json;
using Nanoq.Autograd;
using Nanoq.Coco.Data;
using Nanoq.Coco.Imaging;
using Nanoq.Nn;
using Nanoq.Nn.Backbones;
using Nanoq.Nn.Checkpoints;

namespace Nanoq.Detection.Tests.Torchvision;

using FasterRcnn = global::Nanoq.Detection.FasterRcnn;
using RetinaNet = global::Nanoq.Detection.RetinaNet;

/// <summary>
/// torchvision detectors loaded by torchvision's names reproduce torchvision (fixtures of tools/gen_import_fixtures.py:
/// torchvision's own RetinaNet and FasterRCNN classes, narrow ResNets, non-degenerate random weights in float16, two
/// images of different sizes in one padded batch). Each stage is compared on torchvision's input to it, so a failure
/// names the first stage that differs: transformed input → FPN levels → head outputs → proposals → detections.
/// </summary>
public class TorchvisionImportTests
{
    private const double Rel = 1e-4;

    private static string PathOf(string name) => TorchvisionFixture.PathOf(Path.Combine("import", name));

    private static (IDetector Detector, JsonElement Meta, Dictionary<string, Tensor> Refs) Load(string stem)
    {
        var meta = JsonDocument.Parse(File.ReadAllBytes(PathOf(stem + ".json"))).RootElement;
        var config = TorchvisionArchitectures.Config(meta.GetProperty("arch").GetString()!, meta.Int("num_classes"),
                                                     meta.Int("min_size"), meta.Int("max_size"));
        config = config.WithShared(config.Backbone, (float)meta.Double("backbone_width"), meta.Int("fpn_channels"), meta.Int("anchor_size"), config.InputSize);
        if (config is FasterRcnnConfig f) config = f with { RepresentationSize = meta.Int("box_head") };
        var detector = Detectors.Create(config);
        TorchvisionStateDict.Load(detector, Safetensors.Load(PathOf(stem + ".safetensors")), stem + ".safetensors");
        detector.Network.Eval();
        return (detector, meta, Safetensors.Load(PathOf(stem + "_ref.safetensors")));
    }

    /// <summary>
    /// The fixture's images through Nanoq's loader transform for the imported configuration (torchvision's
    /// GeneralizedRCNNTransform: <see cref="ResizeMode.Torchvision"/>) and batching, checked against torchvision's batch
    /// (values within 1e-5; the sizes exactly): the input the rest of the test runs on.
    /// </summary>
    private static Var TransformedInput(IDetector detector, JsonElement meta, Dictionary<string, Tensor> refs)
    {
        var c = detector.Config;
        var options = new TransformOptions { Resize = ResizeMode.Torchvision, ShorterSide = c.InputSize, MaxLongerSide = c.MaxInputSize };
        var samples = Enumerable.Range(0, ImageSizes(meta).Length).Select(i =>
        {
            var t = refs[$"image.{i}"]; // [3, H, W], pixel values
            int h = t.Shape[1], w = t.Shape[2];
            var rgb = new RgbImage(w, h);
            for (int ch = 0; ch < 3; ch++)
                for (int p = 0; p < h * w; p++) rgb.Pixels[3 * p + ch] = (byte)t.Span[ch * h * w + p];
            return CocoFolder.FromImage(rgb, options);
        }).ToArray();
        using var batch = Batcher.Collate(samples, 32);
        Assert.Equal(ImageSizes(meta), samples.Select(s => (s.Height, s.Width)));
        var x = Tensor.FromArray(batch.Data.AsSpan(0, batch.N * batch.C * batch.H * batch.W).ToArray(), batch.N, batch.C, batch.H, batch.W);
        var expected = refs["transformed"];
        Assert.True(expected.Shape == x.Shape, $"transformed: shape {x.Shape}, torchvision's {expected.Shape}");
        TorchvisionFixture.Close(expected.Span, x.Span, 1e-5, floor: 1, "transformed input");
        return new Var(x);
    }

    private static (int Height, int Width)[] ImageSizes(JsonElement meta) =>
        meta.GetProperty("image_sizes").EnumerateArray().Select(s => (s[0].GetInt32(), s[1].GetInt32())).ToArray();

    /// <summary>
    /// |a − e| ≤ 1e-4 · max(|e|, rms(e)): relative, and for the elements of a tensor below its root mean square relative
    /// to that (float32 sums in another order differ by a few 1e-6 of a tensor's scale, not of each element's).
    /// </summary>
    private static void Close(Tensor expected, Tensor actual, string what, double rel = Rel)
    {
        Assert.True(expected.Shape == actual.Shape, $"{what}: shape {actual.Shape}, torchvision's {expected.Shape}");
        double ss = 0;
        foreach (float v in expected.Span) ss += (double)v * v;
        TorchvisionFixture.Close(expected.Span, actual.Span, rel, floor: Math.Sqrt(ss / Math.Max(1, expected.Size)), what);
    }

    [Theory]
    [InlineData("retinanet_r18")]
    [InlineData("retinanet_mbv2")]
    public void RetinaNet_reproduces_torchvision_stage_by_stage(string stem)
    {
        var (det, meta, refs) = Load(stem);
        var r = (RetinaNet)det;
        using var _ = GradMode.NoGrad();
        using var tape = new Tape();
        var x = TransformedInput(det, meta, refs);
        var levels = r.Fpn.Forward(((IBackbone)r.Backbone).Stages(x));
        Assert.Equal(5, levels.Length);
        for (int k = 0; k < levels.Length; k++) Close(refs[$"fpn.{k}"], levels[k].Value, $"P{k + 3}");

        var output = r.Forward(x);
        var (logits, deltas) = r.Heads(output);
        Close(refs["cls_logits"], logits.Value, "cls_logits");
        Close(refs["bbox_regression"], deltas.Value, "bbox_regression");

        var detections = r.Postprocess(output, ImageSizes(meta));
        AssertDetections(refs, meta, detections, "retinanet");
    }

    [Fact]
    public void FasterRcnn_reproduces_torchvision_stage_by_stage()
    {
        var (det, meta, refs) = Load("fasterrcnn_r50");
        var f = (FasterRcnn)det;
        using var _ = GradMode.NoGrad();
        using var tape = new Tape();
        var x = TransformedInput(det, meta, refs);
        int h = x.Shape[2], w = x.Shape[3];
        var levels = f.Fpn.Forward(((IBackbone)f.Backbone).Stages(x));
        Assert.Equal(5, levels.Length);
        for (int k = 0; k < levels.Length; k++) Close(refs[$"fpn.{k}"], levels[k].Value, $"P{k + 2}");

        var (obj, del) = f.RpnHead.Forward(levels);
        for (int k = 0; k < obj.Length; k++)
        {
            Close(refs[$"objectness.{k}"], obj[k].Value, $"objectness P{k + 2}");
            Close(refs[$"rpn_deltas.{k}"], del[k].Value, $"rpn deltas P{k + 2}");
        }

        // Proposals from Nanoq's own RPN maps, clipped to each image's size (torchvision's image_sizes).
        var sizes = ImageSizes(meta);
        var proposals = f.Propose(obj, del, h, w, f.TestProposalFilter, sizes);
        for (int i = 0; i < proposals.Length; i++)
        {
            var expected = refs[$"proposals.{i}"];
            Assert.Equal(expected.Shape[0], proposals[i].Length / 4);
            // As sets: near 1, σ maps logits 2e-4 apart to one float32, and tied scores may come in either order.
            var e = expected.Span.ToArray();
            var used = new bool[e.Length / 4];
            for (int j = 0; j < e.Length / 4; j++)
            {
                int match = -1;
                for (int q = 0; q < used.Length && match < 0; q++)
                    if (!used[q] && Enumerable.Range(0, 4).All(c => Math.Abs(e[4 * j + c] - proposals[i][4 * q + c]) <= 1e-3)) match = q;
                Assert.True(match >= 0, $"image {i}: torchvision's proposal {j} ({e[4 * j]}, {e[4 * j + 1]}, {e[4 * j + 2]}, {e[4 * j + 3]}) has no Nanoq counterpart");
                used[match] = true;
            }
        }

        // The box head on torchvision's proposals.
        var tvProposals = Enumerable.Range(0, sizes.Length).Select(i => refs[$"proposals.{i}"].Span.ToArray()).ToArray();
        var (classLogits, boxDeltas) = f.BoxStage(levels[..^1], tvProposals, h, w);
        Close(refs["class_logits"], classLogits.Value, "class_logits");
        Close(refs["box_regression"], boxDeltas.Value, "box_regression");

        var output = f.Forward(x, sizes);
        AssertDetections(refs, meta, f.Postprocess(output, sizes), "faster-rcnn");
    }

    /// <summary>
    /// Nanoq's detections (in the resized image) carried to the original image as torchvision's transform.postprocess
    /// does (× original / resized, per axis, in float32) against torchvision's: the same number, and each torchvision
    /// detection matched by one of Nanoq's with the same label, box within 1e-3 px and score within 1e-4 (matched, not
    /// compared by rank, so two scores that tie within float error may come in either order).
    /// </summary>
    private static void AssertDetections(Dictionary<string, Tensor> refs, JsonElement meta, IReadOnlyList<Detections> detections, string kind)
    {
        var sizes = ImageSizes(meta);
        var counts = meta.Ints("detections");
        Assert.Equal(sizes.Length, detections.Count);
        for (int i = 0; i < detections.Count; i++)
        {
            var image = refs[$"image.{i}"];
            float ry = (float)image.Shape[1] / sizes[i].Height, rx = (float)image.Shape[2] / sizes[i].Width;
            var d = detections[i];
            var boxes = refs[$"det.{i}.boxes"].Span;
            var scores = refs[$"det.{i}.scores"].Span;
            var labels = refs[$"det.{i}.labels"].Span;
            Assert.True(counts[i] > 0, "the fixture has no detections: it would check nothing");
            Assert.Equal(counts[i], d.Count);
            var used = new bool[d.Count];
            for (int e = 0; e < counts[i]; e++)
            {
                int match = -1;
                for (int j = 0; j < d.Count && match < 0; j++)
                {
                    if (used[j] || TorchvisionArchitectures.TorchvisionLabel(kind, d.Labels[j]) != (int)labels[e]) continue;
                    if (Math.Abs(d.Scores[j] - scores[e]) > 1e-4) continue;
                    bool near = true;
                    for (int c = 0; c < 4; c++)
                        near &= Math.Abs(d.Boxes[4 * j + c] * (c % 2 == 0 ? rx : ry) - boxes[4 * e + c]) <= 1e-3;
                    if (near) match = j;
                }
                Assert.True(match >= 0, $"image {i}: torchvision's detection {e} (label {labels[e]}, score {scores[e]}, box " +
                                        $"{boxes[4 * e]}, {boxes[4 * e + 1]}, {boxes[4 * e + 2]}, {boxes[4 * e + 3]}) has no Nanoq counterpart");
                used[match] = true;
            }
        }
    }

    /// <summary>The eight architectures at full size (91 classes): exactly torchvision's tensor names and shapes.</summary>
    [Fact]
    public void Full_size_architectures_have_torchvisions_names_and_shapes()
    {
        var all = JsonDocument.Parse(File.ReadAllBytes(PathOf("arch_shapes.json"))).RootElement;
        Assert.Equal(TorchvisionArchitectures.Names.Order(), all.EnumerateObject().Select(p => p.Name).Order());
        foreach (var arch in all.EnumerateObject())
        {
            var expected = arch.Value.EnumerateArray()
                .Select(e => (Name: e[0].GetString()!, Shape: string.Join(",", e[1].EnumerateArray().Select(v => v.GetInt32()))))
                .Where(e => !e.Name.EndsWith("num_batches_tracked", StringComparison.Ordinal))
                .OrderBy(e => e.Name, StringComparer.Ordinal).ToList();
            var detector = Detectors.Create(TorchvisionArchitectures.Config(arch.Name, 91));
            var actual = TorchvisionStateDict.Export(detector)
                .Select(kv => (Name: kv.Key, Shape: string.Join(",", kv.Value.Shape.Dims.ToArray())))
                .OrderBy(e => e.Name, StringComparer.Ordinal).ToList();
            Assert.True(expected.SequenceEqual(actual),
                $"{arch.Name}: first difference {expected.Zip(actual).FirstOrDefault(p => p.First != p.Second)}, counts {expected.Count} vs {actual.Count}");
        }
    }

    [Fact]
    public void Loading_refuses_a_wrong_shape_a_missing_and_an_extra_tensor_by_name()
    {
        var state = Safetensors.Load(PathOf("retinanet_r18.safetensors"));
        IDetector Fresh(int classes = 4) => Detectors.Create(((RetinaNetConfig)TorchvisionArchitectures.Config("retinanet_resnet18_fpn", classes, 80, 133))
            with { BackboneWidth = 0.125f, FpnChannels = 32, AnchorSize = 16 });

        // Another class count: the classification predictor's shape, both shapes named.
        var e = Assert.Throws<StateDictException>(() => TorchvisionStateDict.Load(Fresh(5), state, "w.safetensors"));
        Assert.Contains("w.safetensors: 'head.classification_head.cls_logits.weight' has shape [36, 32, 3, 3]", e.Message);
        Assert.Contains("expects [45, 32, 3, 3]", e.Message);

        var missing = new Dictionary<string, Tensor>(state);
        missing.Remove("backbone.fpn.extra_blocks.p6.bias");
        e = Assert.Throws<StateDictException>(() => TorchvisionStateDict.Load(Fresh(), missing, "w.safetensors"));
        Assert.Contains("missing 'backbone.fpn.extra_blocks.p6.bias'", e.Message);
        Assert.Contains("'fpn.p6.bias'", e.Message);

        var extra = new Dictionary<string, Tensor>(state) { ["roi_heads.box_head.fc6.weight"] = Tensor.Zeros(2, 2) };
        e = Assert.Throws<StateDictException>(() => TorchvisionStateDict.Load(Fresh(), extra, "w.safetensors"));
        Assert.Contains("1 tensor(s)", e.Message);
        Assert.Contains("'roi_heads.box_head.fc6.weight'", e.Message);

        // All or nothing: a refused load leaves the weights as they were.
        var d = Fresh();
        var before = d.Network.StateDict()["backbone.conv1.weight"].Span.ToArray();
        Assert.Throws<StateDictException>(() => TorchvisionStateDict.Load(d, missing, "w.safetensors"));
        Assert.Equal(before, d.Network.StateDict()["backbone.conv1.weight"].Span.ToArray());
    }

    [Fact]
    public void Export_and_load_round_trip_every_tensor()
    {
        var (det, _, _) = Load("fasterrcnn_r50");
        var exported = TorchvisionStateDict.Export(det);
        var file = Safetensors.Load(PathOf("fasterrcnn_r50.safetensors"));
        foreach (var (name, t) in exported) Assert.Equal(file[name].Span.ToArray(), t.Span.ToArray());
        Assert.Equal(file.Keys.Count(k => !k.EndsWith("num_batches_tracked", StringComparison.Ordinal)), exported.Count);
    }
}
