using Nanoq.Quant.Integer;

namespace Nanoq.Detection.Tests.Integer;

/// <summary>Saving and loading the integer RetinaNet (NQIM container): bit-identical outputs, clear failures.</summary>
public sealed class IntegerModelFileTests : IDisposable
{
    private static readonly Lazy<(QuantizedDetector Detector, IntegerRetinaNet Net)> ResNet = new(() =>
    {
        var d = new QuantizedDetector(QuantizedDetector.Tiny(), 21);
        return (d, IntegerConverter.Convert(d.Model, d.Registry));
    });

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "nanoq-intfile-" + Guid.NewGuid().ToString("N"));

    public IntegerModelFileTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("resnet18")]
    [InlineData("mobilenet_v2")]
    public void RoundTripGivesBitIdenticalHeadsAndDetections(string backbone)
    {
        var net = backbone == "resnet18" ? ResNet.Value.Net : Convert(new QuantizedDetector(QuantizedDetector.Tiny(backbone), 22));
        string path = Path.Combine(_dir, backbone + ".nqim");
        net.Save(path);
        var loaded = IntegerRetinaNet.Load(path, net.Config);

        var images = QuantizedDetector.Images(new Rng(3), 2, 64);
        var a = net.ForwardCodes(images);
        var b = loaded.ForwardCodes(images);
        Assert.Equal(a.Logits, b.Logits);
        Assert.Equal(a.Deltas, b.Deltas);
        Assert.Equal(net.Layers.Select(l => l.Key), loaded.Layers.Select(l => l.Key));
        Assert.Equal(net.Grids.OrderBy(kv => kv.Key), loaded.Grids.OrderBy(kv => kv.Key));

        var sizes = new[] { (64, 64), (64, 64) };
        var da = net.Detect(images, sizes);
        var db = loaded.Detect(images, sizes);
        for (int i = 0; i < da.Count; i++)
        {
            Assert.Equal(da[i].Boxes, db[i].Boxes);
            Assert.Equal(da[i].Scores, db[i].Scores);
            Assert.Equal(da[i].Labels, db[i].Labels);
        }
        // Saving what was loaded writes the same bytes (nothing lost or reordered).
        string again = Path.Combine(_dir, backbone + "-again.nqim");
        loaded.Save(again);
        Assert.Equal(File.ReadAllBytes(path), File.ReadAllBytes(again));
    }

    private static IntegerRetinaNet Convert(QuantizedDetector d) => IntegerConverter.Convert(d.Model, d.Registry);

    [Fact]
    public void FourBitWeightsAreStoredTwoPerByte()
    {
        var net = ResNet.Value.Net;
        var model = net.ToModel();
        var weights = model.Tensors.Where(t => t.Name.EndsWith(".weight", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(weights);
        Assert.All(weights, t => Assert.True(t.IsPackedInFile, t.ToString()));
        long codes = weights.Sum(t => t.Count);
        long file = IntModelFile.ToBytes(model).Length;
        // The file is the packed codes plus int32 per-channel constants, the header and alignment.
        Assert.True(file < codes, $"{file} bytes for {codes} weight codes");
    }

    [Fact]
    public void ADamagedFileFailsWithAClearError()
    {
        var net = ResNet.Value.Net;
        string path = Path.Combine(_dir, "damaged.nqim");
        net.Save(path);
        var bytes = File.ReadAllBytes(path);
        bytes[^100] ^= 0x10; // a flipped bit in the payload
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<IntModelFormatException>(() => IntegerRetinaNet.Load(path, net.Config));
        Assert.Contains(path, e.Message);
        Assert.Contains("payload", e.Message, StringComparison.OrdinalIgnoreCase);

        File.WriteAllBytes(path, File.ReadAllBytes(path)[..1000]); // truncated
        e = Assert.Throws<IntModelFormatException>(() => IntegerRetinaNet.Load(path, net.Config));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void AFileOfAnotherArchitectureIsRefusedNamingTheSetting()
    {
        var net = ResNet.Value.Net;
        string path = Path.Combine(_dir, "r18.nqim");
        net.Save(path);
        var e = Assert.Throws<ArgumentException>(() => IntegerRetinaNet.Load(path, net.Config with { NumClasses = 3 }));
        Assert.Contains("num_classes", e.Message);
        e = Assert.Throws<ArgumentException>(() => IntegerRetinaNet.Load(path, net.Config with { Backbone = "resnet34" }));
        Assert.Contains("backbone", e.Message);
    }
}
