using System.Buffers.Binary;
using System.Text;
using Nanoq.Nn;
using Nanoq.Nn.Checkpoints;

namespace Nanoq.Tests;

/// <summary>
/// Issue 19's damaged checkpoints, each reproduced byte for byte: the data checksum Nanoq writes and verifies, files
/// from elsewhere (no checksum) still loading, non-finite weights, a header length off by one, bytes inserted into the
/// data, bit flips, and truncation by any number of bytes — every one a <see cref="StateDictException"/> naming the file.
/// </summary>
public sealed class SafetensorsDamageTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nanoq-st-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Dictionary<string, Tensor> Sample() => new()
    {
        ["a.weight"] = new Rng(1).Normal(new Shape(3, 4)),
        ["b"] = Tensor.FromArray([1f, -2f, 3.5f], 3),
        ["scalar"] = Tensor.FromArray([7f]),
    };

    private string Saved(string name = "x.safetensors")
    {
        string path = Path.Combine(_dir, name);
        Safetensors.Save(path, Sample(), new Dictionary<string, string> { ["step"] = "3" });
        return path;
    }

    private static StateDictException Refused(string path, byte[] bytes)
    {
        File.WriteAllBytes(path, bytes);
        var ex = Assert.Throws<StateDictException>(() => Safetensors.Load(path));
        Assert.StartsWith(path + ": ", ex.Message);
        Assert.DoesNotContain('\n', ex.Message);
        return ex;
    }

    /// <summary>A safetensors file as another framework writes it: no Nanoq metadata, the given tensors as F32.</summary>
    internal static byte[] Foreign(params (string Name, float[] Values)[] tensors)
    {
        var header = new StringBuilder("{");
        long offset = 0;
        foreach (var (name, values) in tensors)
        {
            if (header.Length > 1) header.Append(", ");
            header.Append($"\"{name}\": {{\"dtype\": \"F32\", \"shape\": [{values.Length}], \"data_offsets\": [{offset}, {offset + 4 * values.Length}]}}");
            offset += 4 * values.Length;
        }
        header.Append('}');
        var h = Encoding.UTF8.GetBytes(header.ToString());
        var file = new byte[8 + h.Length + offset];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)h.Length);
        h.CopyTo(file, 8);
        int at = 8 + h.Length;
        foreach (var (_, values) in tensors)
            foreach (float v in values) { BinaryPrimitives.WriteSingleLittleEndian(file.AsSpan(at), v); at += 4; }
        return file;
    }

    [Fact]
    public void NanoqFilesCarryTheSha256OfTheirDataSection()
    {
        string path = Saved();
        Safetensors.Load(path, out var meta);
        var bytes = File.ReadAllBytes(path);
        int dataStart = 8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes.AsSpan(dataStart))), meta[Safetensors.ChecksumKey]);
        Assert.Equal("3", meta["step"]);
    }

    [Fact]
    public void ABitFlipInTheDataIsACheckumMismatch()
    {
        string path = Saved();
        var bytes = File.ReadAllBytes(path);
        bytes[^3] ^= 0x01; // inside 'scalar': still a finite float, so only the checksum can tell
        Assert.Contains("data checksum mismatch", Refused(path, bytes).Message);
    }

    [Fact]
    public void ForeignFilesWithoutAChecksumStillLoad()
    {
        string path = Path.Combine(_dir, "torch.safetensors");
        File.WriteAllBytes(path, Foreign(("w", [1f, 2f]), ("bias", [0.5f])));
        var t = Safetensors.Load(path, out var meta);
        Assert.Equal([1f, 2f], t["w"].ToArray());
        Assert.False(meta.ContainsKey(Safetensors.ChecksumKey));
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void NonFiniteWeightsAreAnErrorNamingTheTensor(float bad)
    {
        string path = Path.Combine(_dir, "nan.safetensors");
        var ex = Refused(path, Foreign(("fine", [1f]), ("layer1.0.conv1.weight", [0f, 1f, bad])));
        Assert.Contains("tensor 'layer1.0.conv1.weight': element 2", ex.Message);
    }

    [Fact]
    public void SavingNonFiniteWeightsIsRefusedAndKeepsThePreviousFile()
    {
        string path = Saved();
        var before = File.ReadAllBytes(path);
        var diverged = new Dictionary<string, Tensor> { ["head.bias"] = Tensor.FromArray([0f, float.NaN], 2) };
        var ex = Assert.Throws<StateDictException>(() => Safetensors.Save(path, diverged));
        Assert.Contains("'head.bias': element 1 is NaN", ex.Message);
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(_dir));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(1)]
    [InlineData(-8)]
    [InlineData(8)]
    public void AHeaderLengthOffByOneIsRefused(int delta)
    {
        foreach (bool foreign in new[] { false, true })
        {
            string path = Path.Combine(_dir, $"len{foreign}.safetensors");
            var bytes = foreign ? Foreign(("w", [1f, 2f, 3f])) : File.ReadAllBytes(Saved());
            ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
            BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)((long)n + delta));
            Refused(path, bytes);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    [InlineData(-1)] // appended after the last tensor
    public void BytesInsertedIntoTheDataAreRefused(int at)
    {
        foreach (bool foreign in new[] { false, true })
        {
            string path = Path.Combine(_dir, $"ins{foreign}.safetensors");
            var bytes = foreign ? Foreign(("w", [1f, 2f, 3f]), ("v", [4f])) : File.ReadAllBytes(Saved());
            int dataStart = 8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
            int pos = at < 0 ? bytes.Length : dataStart + at;
            var grown = bytes[..pos].Concat(new byte[] { 0, 0, 0, 0 }).Concat(bytes[pos..]).ToArray();
            var ex = Refused(path, grown);
            if (foreign) Assert.Contains("bytes inserted", ex.Message);
        }
    }

    [Fact]
    public void EveryTruncationIsTheSameClearError()
    {
        // A 1-byte truncation must fail exactly like a 2-byte one: the last tensor (in name order) no longer fits.
        string path = Saved();
        var bytes = File.ReadAllBytes(path);
        for (int cut = 1; cut <= 4; cut++)
        {
            var ex = Refused(path, bytes[..^cut]);
            Assert.Contains("tensor 'scalar': data_offsets [", ex.Message);
            Assert.Contains("truncated", ex.Message);
        }
        for (int keep = 0; keep < bytes.Length; keep += 7) Refused(path, bytes[..keep]);
    }

    [Fact]
    public void EveryBitFlipIsRefusedOrHarmless()
    {
        // Flip one bit at every byte: a flip in the header can leave a valid file (a space turned into another
        // whitespace, say), but nothing may escape as another exception type and nothing may load different values.
        string path = Saved();
        var bytes = File.ReadAllBytes(path);
        var original = Safetensors.Load(path);
        for (int i = 0; i < bytes.Length; i++)
        {
            var flipped = (byte[])bytes.Clone();
            flipped[i] ^= (byte)(1 << (i % 8));
            File.WriteAllBytes(path, flipped);
            Dictionary<string, Tensor> loaded;
            try { loaded = Safetensors.Load(path); }
            catch (StateDictException ex) { Assert.StartsWith(path + ": ", ex.Message); continue; }
            Assert.Equal(original.Keys.Order(), loaded.Keys.Order());
            foreach (var (k, t) in original) Assert.Equal(t.ToArray(), loaded[k].ToArray());
        }
    }

    [Fact]
    public void OverlappingAndDuplicateEntriesAreRefused()
    {
        string path = Path.Combine(_dir, "o.safetensors");
        var overlap = Foreign(("w", [1f, 2f]));
        var text = Encoding.UTF8.GetString(overlap, 8, overlap.Length - 16)
            .Replace("}}", "}, \"v\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}");
        Assert.Contains("inside tensor 'w'", Refused(path, Rebuild(text, overlap[^8..])).Message);
        var dup = Encoding.UTF8.GetString(overlap, 8, overlap.Length - 16).Replace("}}", "}, \"w\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}}");
        Assert.Contains("names 'w' twice", Refused(path, Rebuild(dup, overlap[^8..])).Message);
    }

    [Fact]
    public void ControlCharactersInNamesStayOnOneLine()
    {
        string path = Path.Combine(_dir, "n.safetensors");
        var file = Foreign(("w", [1f]));
        var text = Encoding.UTF8.GetString(file, 8, file.Length - 12).Replace("\"w\"", "\"a\\nb\"").Replace("F32", "X\\u0000");
        var ex = Refused(path, Rebuild(text, file[^4..]));
        Assert.Contains("tensor 'a\\u000ab': unsupported dtype 'X\\u0000'", ex.Message);
    }

    private static byte[] Rebuild(string header, byte[] data)
    {
        var h = Encoding.UTF8.GetBytes(header);
        var file = new byte[8 + h.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)h.Length);
        h.CopyTo(file, 8);
        data.CopyTo(file, 8 + h.Length);
        return file;
    }
}
