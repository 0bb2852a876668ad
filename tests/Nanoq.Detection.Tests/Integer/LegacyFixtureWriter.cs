using System.Globalization;
using System.Text.Json;
using Nanoq.Nn.Checkpoints;
using Nanoq.Quant;
using Xunit.Abstractions;

namespace Nanoq.Detection.Tests.Integer;

/// <summary>
/// Writes the regression fixture of issue 13 with the RetinaNet-specific integer runtime (IntRetinaNetGraph), before it
/// is deleted: per backbone, a tiny calibrated 4-bit RetinaNet (its float state, every activation grid by quantizer name),
/// two images, the image codes and the head codes the old runtime computed. Runs only with NANOQ_WRITE_LEGACY_FIXTURE=1.
/// </summary>
public class LegacyFixtureWriter(ITestOutputHelper output)
{
    [Theory]
    [InlineData("resnet18", 31)]
    [InlineData("resnet34", 32)]
    [InlineData("resnet50", 33)]
    [InlineData("mobilenet_v2", 34)]
    public void Write(string backbone, ulong seed)
    {
        if (Environment.GetEnvironmentVariable("NANOQ_WRITE_LEGACY_FIXTURE") != "1") return;
        var config = QuantizedDetector.Tiny(backbone);
        // The float state before quantizers are installed: the fixture's model.
        var probe = new QuantizedDetector(config, seed, liveHeads: true);
        var d = probe;
        var images = QuantizedDetector.Images(new Rng(seed + 7), 2, 64);
        var net = IntegerConverter.Convert(d.Model, d.Registry);
        var codes = net.Input.Quantize(images);
        var heads = net.Graph.Forward(codes);
        var tensors = new Dictionary<string, Tensor>();
        foreach (var (k, v) in d.Model.StateDict()) tensors["model." + k] = v;
        tensors["images"] = images;
        tensors["input_codes"] = Codes(codes.Data, codes.Batch, codes.Channels, codes.Height, codes.Width);
        tensors["logits_codes"] = Codes(heads.Logits, heads.Batch, heads.Anchors, heads.Classes);
        tensors["deltas_codes"] = Codes(heads.Deltas, heads.Batch, heads.Anchors, 4);
        var grids = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var a in d.Registry.Activations)
            grids[a.Name] = string.Create(CultureInfo.InvariantCulture, $"{a.Current!.Value.Scale:R} {a.Current.Value.ZeroPoint} {a.Current.Value.Bits}");
        var meta = new Dictionary<string, string>
        {
            ["config"] = JsonSerializer.Serialize(config),
            ["grids"] = JsonSerializer.Serialize(grids),
            ["producer"] = "IntRetinaNetGraph (the RetinaNet-specific integer runtime, before issue 13)",
        };
        string path = Path.Combine(TestPaths.SourceData, "legacy-integer", $"{backbone}.safetensors");
        Safetensors.Save(path, tensors, meta);
        output.WriteLine($"{path}: {heads.Logits.Distinct().Count()} distinct logit codes, {heads.Deltas.Distinct().Count()} distinct delta codes");
    }

    private static Tensor Codes(byte[] c, params int[] dims) => Tensor.FromArray(c.Select(b => (float)b).ToArray(), dims);
}

internal static class TestPaths
{
    /// <summary>tests/Nanoq.Detection.Tests/data in the source tree (found upwards from the test binary).</summary>
    public static string SourceData
    {
        get
        {
            for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
                if (File.Exists(Path.Combine(d.FullName, "Nanoq.Detection.Tests.csproj"))) return Path.Combine(d.FullName, "data");
            throw new DirectoryNotFoundException("tests/Nanoq.Detection.Tests not found above the test binary.");
        }
    }
}
