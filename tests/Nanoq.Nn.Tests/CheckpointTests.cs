using System.Text;
using Nanoq.Nn;
using Nanoq.Nn.Backbones;
using Nanoq.Nn.Checkpoints;

namespace Nanoq.Tests;

public class CheckpointTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nanoq-ckpt-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Dictionary<string, Tensor> Sample() => new()
    {
        ["a.weight"] = new Rng(1).Normal(new Shape(3, 4)),
        ["b"] = Tensor.FromArray([1f, -2f, 3.5f], 3),
        ["scalar"] = Tensor.FromArray([7f]),
    };

    [Fact]
    public void RoundTripsNamesShapesAndValuesAndMetadata()
    {
        string path = Path.Combine(_dir, "x.safetensors");
        var src = Sample();
        Safetensors.Save(path, src, new Dictionary<string, string> { ["step"] = "12" });
        var back = Safetensors.Load(path, out var meta);
        Assert.Equal("12", meta["step"]);
        Assert.Equal(src.Keys.Order(), back.Keys.Order());
        foreach (var (k, t) in src)
        {
            Assert.Equal(t.Shape, back[k].Shape);
            Assert.Equal(t.ToArray(), back[k].ToArray());
        }
        // The layout is the published one: u64 header length, then a JSON object.
        var bytes = File.ReadAllBytes(path);
        ulong n = BitConverter.ToUInt64(bytes, 0);
        Assert.StartsWith("{", Encoding.UTF8.GetString(bytes, 8, (int)n));
        Assert.Equal(0UL, (8 + n) % 8);
    }

    [Fact]
    public void TruncatedFileNamesTheTensor()
    {
        string path = Path.Combine(_dir, "t.safetensors");
        Safetensors.Save(path, Sample());
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^2]); // cuts into the last tensor only
        var ex = Assert.Throws<StateDictException>(() => Safetensors.Load(path));
        Assert.Contains(path, ex.Message);
        Assert.Contains("scalar", ex.Message); // the last tensor in name order no longer fits
    }

    [Fact]
    public void TruncatedByOneByteNamesTheTensor()
    {
        // One byte short: the last tensor's data_offsets end is exactly one past the data. The bound check must reject
        // it as a StateDictException naming the tensor, not let the slice throw an ArgumentOutOfRangeException.
        string path = Path.Combine(_dir, "t1.safetensors");
        Safetensors.Save(path, Sample());
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^1]);
        var ex = Assert.Throws<StateDictException>(() => Safetensors.Load(path));
        Assert.Contains("scalar", ex.Message);
        Assert.Contains("truncated", ex.Message);
    }

    [Fact]
    public void HeaderLengthBoundIsExact()
    {
        // u64 2 + "{}": the header ends exactly at the end of the file (no tensors) and loads. u64 3 + "{}" claims one
        // byte more than there is.
        var exact = BitConverter.GetBytes(2UL).Concat("{}"u8.ToArray()).ToArray();
        Assert.Empty(Safetensors.Parse(exact, "exact", out _));
        var over = BitConverter.GetBytes(3UL).Concat("{}"u8.ToArray()).ToArray();
        Assert.Contains("header length 3", Assert.Throws<StateDictException>(() => Safetensors.Parse(over, "over", out _)).Message);
    }

    [Fact]
    public void CorruptHeaderIsReportedWithPosition()
    {
        string path = Path.Combine(_dir, "c.safetensors");
        Safetensors.Save(path, Sample());
        var bytes = File.ReadAllBytes(path);
        bytes[8] = (byte)'#'; // the opening brace of the JSON header
        File.WriteAllBytes(path, bytes);
        var ex = Assert.Throws<StateDictException>(() => Safetensors.Load(path));
        Assert.Contains("not valid JSON", ex.Message);
    }

    [Fact]
    public void TooShortOrHugeHeaderLength()
    {
        string p1 = Path.Combine(_dir, "s.safetensors");
        File.WriteAllBytes(p1, [1, 2, 3]);
        Assert.Contains("shorter", Assert.Throws<StateDictException>(() => Safetensors.Load(p1)).Message);
        string p2 = Path.Combine(_dir, "h.safetensors");
        File.WriteAllBytes(p2, BitConverter.GetBytes(1_000_000UL).Concat(new byte[16]).ToArray());
        Assert.Contains("header length", Assert.Throws<StateDictException>(() => Safetensors.Load(p2)).Message);
    }

    [Fact]
    public void InterruptedSaveKeepsThePreviousCheckpoint()
    {
        string path = Path.Combine(_dir, "k.safetensors");
        Safetensors.Save(path, Sample());
        var before = File.ReadAllBytes(path);
        var bad = new Dictionary<string, Tensor> { ["x"] = Tensor.Zeros(4) };
        // A writer that dies half way (as a crash or Ctrl-C would) must leave the old file intact and no temp files.
        Assert.Throws<IOException>(() => Nanoq.IO.AtomicFile.Write(path, s => { s.Write(new byte[100]); throw new IOException("disk gone"); }));
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(_dir));
        Safetensors.Save(path, bad);
        Assert.Equal([0f, 0f, 0f, 0f], Safetensors.Load(path)["x"].ToArray());
    }

    [Fact]
    public void LoadStateDictNamesMissingAndMisshapenTensors()
    {
        var model = ResNet.ResNet18(numClasses: 10, width: 8);
        var state = model.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.Clone());

        var missing = new Dictionary<string, Tensor>(state);
        missing.Remove("layer2.0.bn1.running_mean");
        Assert.Contains("layer2.0.bn1.running_mean", Assert.Throws<StateDictException>(() => model.LoadStateDict(missing)).Message);

        var wrong = new Dictionary<string, Tensor>(state) { ["layer3.1.conv2.weight"] = Tensor.Zeros(1, 2, 3, 3) };
        var ex = Assert.Throws<StateDictException>(() => model.LoadStateDict(wrong));
        Assert.Contains("layer3.1.conv2.weight", ex.Message);
        Assert.Contains("[1, 2, 3, 3]", ex.Message);

        var extra = new Dictionary<string, Tensor>(state) { ["head.weight"] = Tensor.Zeros(1) };
        Assert.Contains("head.weight", Assert.Throws<StateDictException>(() => model.LoadStateDict(extra)).Message);
        model.LoadStateDict(extra, strict: false);
    }

    [Fact]
    public void ModelRoundTripsThroughACheckpoint()
    {
        string path = Path.Combine(_dir, "m.safetensors");
        var a = new MobileNetV2(numClasses: 5, widthMult: 0.25f, seed: 1);
        var b = new MobileNetV2(numClasses: 5, widthMult: 0.25f, seed: 2);
        Safetensors.Save(path, a.StateDict());
        b.LoadStateDict(Safetensors.Load(path));
        foreach (var (k, t) in a.StateDict()) Assert.Equal(t.ToArray(), b.StateDict()[k].ToArray());
    }
}
