using System.Text.Json;
using Nanoq.Autograd;
using Nanoq.Nn.Backbones;
using Nanoq.Onnx;

namespace Nanoq.Cli.Tests.Commands;

/// <summary>
/// Imported networks as detector backbones from the command line: <c>--backbone onnx:FILE</c> trains, quantizes and
/// converts like a native backbone, the run folder records it, and <c>inspect --backbone</c> draws Figure 2 from a
/// backbone's own weights.
/// </summary>
public sealed class OnnxBackboneCommandTests : CliTest, IDisposable
{
    private readonly string _dir = TestData.TempDir("onnxbackbone");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A small ResNet-18's C2–C5 as an ONNX file (Nanoq's own export: a plain CNN graph).</summary>
    private string TinyBackboneOnnx()
    {
        var backbone = DetectionBackbones.Create("resnet18", 0.125f, new Rng(3));
        var module = (Nn.Module)backbone;
        module.Eval();
        using var sample = Tensor.Zeros(1, 3, 64, 64);
        var proto = OnnxExporter.Export(module, x => backbone.Stages(x), sample, quantized: false);
        string path = Path.Combine(_dir, "tiny-resnet.onnx");
        OnnxExporter.Save(proto, path);
        return path;
    }

    [Fact]
    public void An_onnx_backbone_goes_through_the_whole_pipeline_and_the_run_folder_names_it()
    {
        string onnx = TinyBackboneOnnx();
        string outDir = Path.Combine(_dir, "run");
        var (code, stdout, stderr) = Nanoq("run", "--quick", "--backbone", $"onnx:{onnx}", "--out", outDir, "--cache", Path.Combine(_dir, "data"),
                                           "--steps", "3", "--qat-steps", "1");
        Assert.True(code == 0, stderr);
        Assert.Contains("INT4 integer-only", stdout);
        using var model = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "model.json")));
        Assert.Equal($"onnx:{onnx}", model.RootElement.GetProperty("Config").GetProperty("Backbone").GetString());
        // The imported graph's layers are the detector's backbone: its quantizers carry the ONNX node names.
        var inspect = Nanoq("inspect", "--out", outDir, "--layer", "backbone.graph.");
        Assert.True(inspect.Code == 0, inspect.Err);
        Assert.Contains("backbone.graph.", inspect.Out);
        Assert.Contains("Figure 2", inspect.Out);
    }

    [Fact]
    public void Inspect_draws_figure_2_of_an_onnx_backbone_and_refuses_a_missing_file()
    {
        string onnx = TinyBackboneOnnx();
        var (code, stdout, stderr) = Nanoq("inspect", "--backbone", $"onnx:{onnx}");
        Assert.True(code == 0, stderr);
        // ResNet-18's C2–C5 at width 8: conv1, 16 block convs, 3 downsamples = 20 conv layers.
        Assert.Contains("of 20 layers", stdout);
        var missing = Nanoq("inspect", "--backbone", $"onnx:{Path.Combine(_dir, "none.onnx")}");
        Assert.Equal(2, missing.Code);
        Assert.Contains("no such file", missing.Err);
        var unknown = Nanoq("train", "--backbone", "vgg16", "--out", Path.Combine(_dir, "x"));
        Assert.Equal(2, unknown.Code);
        Assert.Contains("onnx:FILE", unknown.Err);
    }

    [Fact]
    public void Figure_2_of_the_imagenet_resnet18_from_its_real_weights()
    {
        // The model file comes with the NuGet package that Nanoq.Cli restores (Microsoft.ML.DnnImageFeaturizer.ResNet18).
        var (code, stdout, stderr) = Nanoq("inspect", "--backbone", "resnet18-imagenet");
        Assert.True(code == 0, stderr);
        // Measured 2026-12-06 from the file's weights (BN folded): 22 convs (CNTK's blocks [2, 2, 2, 3] and the folded
        // input transform's first conv), 5,824 output channels; a channel's range is a median 11.3 dB (3.7×) below its
        // layer's — nearly two bits lost on a per-tensor grid, FQN's case for C.
        Assert.Contains("5824 channels of 22 layers: median 11.3 dB, 90th percentile 17.4 dB, max 73.2 dB", stdout);
        Assert.Contains("22 layers, median 21.9 dB, max 72.4 dB", stdout);
    }
}
