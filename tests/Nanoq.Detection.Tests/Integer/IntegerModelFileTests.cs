using System.Buffers.Binary;
using Nanoq.Quant.Integer;

namespace Nanoq.Detection.Tests.Integer;

/// <summary>An integer detector survives its file bit for bit; damaged, old-format and foreign files fail naming the file.</summary>
public sealed class IntegerModelFileTests : IDisposable
{
    private static readonly Lazy<IntegerDetector> ResNet = new(() => new QuantizedDetector(QuantizedDetector.Tiny(), 21).Convert());

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "nanoq-intfile-" + Guid.NewGuid().ToString("N"));

    public IntegerModelFileTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("resnet18")]
    [InlineData("mobilenet_v2")]
    public void RoundTripGivesBitIdenticalOutputsAndDetections(string backbone)
    {
        var net = backbone == "resnet18" ? ResNet.Value : new QuantizedDetector(QuantizedDetector.Tiny(backbone), 22).Convert();
        string path = Path.Combine(_dir, backbone + ".nqm");
        net.Save(path);
        var loaded = IntegerDetector.Load(path);

        var images = QuantizedDetector.Images(new Rng(3), 2, 64);
        var a = net.Model.RunCodes(images);
        var b = loaded.Model.RunCodes(images);
        Assert.Equal(a.Length, b.Length);
        for (int i = 0; i < a.Length; i++) Assert.Equal(a[i].Data, b[i].Data);
        Assert.Equal(net.Model.Program.Ops.Select(o => o.ToString()), loaded.Model.Program.Ops.Select(o => o.ToString()));
        for (int v = 0; v < net.Model.Program.Values.Count; v++) Assert.Equal(net.Model.Grid(v), loaded.Model.Grid(v));

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
        string again = Path.Combine(_dir, backbone + "-again.nqm");
        loaded.Save(again);
        Assert.Equal(File.ReadAllBytes(path), File.ReadAllBytes(again));
    }

    [Fact]
    public void FourBitWeightsAreStoredTwoPerByteAndSharedConvsOnce()
    {
        var model = ResNet.Value.Model.ToModel();
        var weights = model.Tensors.Where(t => t.Name.EndsWith(".weight", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(weights);
        Assert.All(weights, t => Assert.True(t.IsPackedInFile, t.ToString()));
        // The head's convs run once a level (5 ops each) but store their codes once.
        Assert.Single(weights, t => t.Name.StartsWith("head.cls0", StringComparison.Ordinal));
        Assert.Equal(5, ResNet.Value.Model.Program.Ops.Count(o => o.Name.Split('#')[0] == "head.cls0"));
        long codes = weights.Sum(t => t.Count);
        long file = IntModelFile.ToBytes(model).Length;
        Assert.True(file < codes, $"{file} bytes for {codes} weight codes");
    }

    [Fact]
    public void ADamagedFileFailsWithAClearError()
    {
        string path = Path.Combine(_dir, "damaged.nqm");
        ResNet.Value.Save(path);
        var bytes = File.ReadAllBytes(path);
        bytes[^100] ^= 0x10; // a flipped bit in the payload
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<IntModelFormatException>(() => IntegerDetector.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("payload", e.Message, StringComparison.OrdinalIgnoreCase);

        File.WriteAllBytes(path, File.ReadAllBytes(path)[..1000]); // truncated
        e = Assert.Throws<IntModelFormatException>(() => IntegerDetector.Load(path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void AVersionOneFileIsRefusedSayingToConvertAgain()
    {
        string path = Path.Combine(_dir, "v1.nqm");
        var bytes = IntModelFile.ToBytes(ResNet.Value.Model.ToModel());
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), 1);
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<IntModelFormatException>(() => IntegerDetector.Load(path));
        Assert.Contains("version 1", e.Message);
        Assert.Contains("convert", e.Message);
    }

    [Fact]
    public void AFileThatDoesNotNameItsDetectorIsRefused()
    {
        string path = Path.Combine(_dir, "anonymous.nqm");
        var m = ResNet.Value.Model;
        new Quant.IntegerModel(m.Program, Enumerable.Range(0, m.Program.Values.Count).Select(v => m.Grid(v).Scale).ToArray()).Save(path);
        var e = Assert.Throws<IntModelFormatException>(() => IntegerDetector.Load(path));
        Assert.Contains("detector.kind", e.Message);
    }
}
