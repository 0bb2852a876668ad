using System.Text;
using Nanoq.Quant.Integer;

namespace Nanoq.Tests.Integer;

/// <summary>
/// NQIM: round trips of every element type (4-bit codes two per byte, odd counts), graph and metadata; CRC-32C's check
/// value; and damaged files — truncated anywhere, a flipped bit in header or payload, foreign magic, newer version,
/// trailing bytes, inconsistent tables — each failing with an error that names the file and the problem.
/// </summary>
public class IntModelFileTests
{
    private static IntModel Sample()
    {
        var rng = new Rng(41);
        var codes4 = Enumerable.Range(0, 2 * 3 * 3 * 3 + 1).Select(_ => (byte)rng.NextInt(16)).ToArray(); // odd count
        var codes8 = Enumerable.Range(0, 40).Select(_ => (byte)rng.NextInt(256)).ToArray();
        return new IntModel(
        [
            IntTensor.Codes("conv1.weight", [55], codes4, 4),
            IntTensor.Codes("fc.weight", [4, 10], codes8, 8),
            IntTensor.Int32("conv1.bias", [-5, 7, int.MinValue, int.MaxValue]),
            IntTensor.Int16("table", [2, 2], [-32768, 1, 2, 32767]),
            IntTensor.SByte("s", [3], [-128, 0, 127]),
            IntTensor.Codes("empty", [0, 3], [], 4),
        ],
        """{"layers":[{"name":"conv1","op":"conv2d","inputs":["x"],"stride":1,"scale":{"num":3,"den":1024},"delta":0.0029296875}]}""",
        new Dictionary<string, string> { ["producer"] = "test", ["bits"] = "4" });
    }

    private static void AssertSame(IntModel expected, IntModel actual)
    {
        Assert.Equal(expected.Tensors.Count, actual.Tensors.Count);
        for (int i = 0; i < expected.Tensors.Count; i++)
        {
            var e = expected.Tensors[i];
            var a = actual[e.Name];
            Assert.Equal(e.DType, a.DType);
            Assert.Equal(e.Bits, a.Bits);
            Assert.Equal(e.Shape, a.Shape);
            Assert.True(e.Bytes.SequenceEqual(a.Bytes), e.Name);
        }
        Assert.Equal(expected.GraphJson, actual.GraphJson);
        Assert.Equal(expected.Metadata, actual.Metadata);
    }

    [Fact]
    public void RoundTrip_File()
    {
        var model = Sample();
        string dir = Path.Combine(Path.GetTempPath(), "nqim-" + Guid.NewGuid().ToString("N"));
        try
        {
            string path = Path.Combine(dir, "m.nqim");
            IntModelFile.Write(path, model);
            var back = IntModelFile.Read(path);
            AssertSame(model, back);
            Assert.Equal(-5, back["conv1.bias"].AsInt32()[0]);
            Assert.Equal(32767, back["table"].AsInt16()[3]);
            Assert.Equal(-128, back["s"].AsSByte()[0]);
            Assert.Throws<KeyNotFoundException>(() => back["missing"]);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void FourBitCodes_AreStoredTwoPerByte()
    {
        byte[] codes = [1, 2, 3, 4, 5];
        var bytes = IntModelFile.ToBytes(new IntModel([IntTensor.Codes("w", [5], codes, 4)]), compressHeader: false);
        var eight = IntModelFile.ToBytes(new IntModel([IntTensor.Codes("w", [5], codes, 8)]));
        // Packed: 0x21, 0x43, 0x05 (element 2i low nibble).
        Assert.Contains("\"storage\":\"u4\"", Encoding.UTF8.GetString(bytes));
        Assert.Equal(new byte[] { 0x21, 0x43, 0x05 }, IntModelFile.PackNibbles(codes));
        Assert.Equal(codes, IntModelFile.UnpackNibbles(IntModelFile.PackNibbles(codes), 5));
        AssertSame(new IntModel([IntTensor.Codes("w", [5], codes, 4)]), IntModelFile.FromBytes(bytes, "mem"));
        AssertSame(new IntModel([IntTensor.Codes("w", [5], codes, 8)]), IntModelFile.FromBytes(eight, "mem"));
    }

    [Fact]
    public void Crc32C_CheckValue()
    {
        Assert.Equal(0xE3069283u, Crc32C.Compute("123456789"u8));
        var rng = new Rng(42);
        for (int n = 0; n < 100; n++)
        {
            var data = Enumerable.Range(0, n).Select(_ => (byte)rng.NextInt(256)).ToArray();
            Assert.Equal(Crc32C.ComputePortable(data), Crc32C.Compute(data));
        }
    }

    private static IntModelFormatException Fails(byte[] file, string source = "model.nqim") =>
        Assert.Throws<IntModelFormatException>(() => IntModelFile.FromBytes(file, source));

    [Fact]
    public void Truncated_AnywhereFails()
    {
        var file = IntModelFile.ToBytes(Sample());
        for (int len = 0; len < file.Length; len += len < 64 ? 1 : 37)
        {
            var e = Fails(file[..len]);
            Assert.Contains("model.nqim", e.Message);
            Assert.Contains("truncated", e.Message);
        }
    }

    [Fact]
    public void FlippedBits_AreCaughtByTheChecksums()
    {
        var file = IntModelFile.ToBytes(Sample());
        int headerLength = BitConverter.ToInt32(file, 8);
        var inHeader = (byte[])file.Clone();
        inHeader[IntModelFile.FixedHeaderBytes + headerLength / 2] ^= 0x04;
        Assert.Contains("header checksum mismatch", Fails(inHeader).Message);
        var inPayload = (byte[])file.Clone();
        inPayload[^3] ^= 0x80;
        Assert.Contains("payload checksum mismatch", Fails(inPayload).Message);
    }

    [Fact]
    public void ForeignOrInconsistentFiles_Fail()
    {
        var file = IntModelFile.ToBytes(Sample());
        var magic = (byte[])file.Clone();
        magic[0] = (byte)'P';
        Assert.Contains("not an NQIM file", Fails(magic).Message);
        var version = (byte[])file.Clone();
        version[4] = 9;
        Assert.Contains("version 9 is not supported", Fails(version).Message);
        Assert.Contains("size mismatch", Fails([.. file, 0]).Message);
        // A header that is valid JSON with a valid checksum but a table entry pointing outside the payload.
        var lying = new IntModel([IntTensor.Int32("b", [1, 2])]);
        var bytes = IntModelFile.ToBytes(lying, compressHeader: false); // version 2: the header is plain JSON to edit
        string json = Encoding.UTF8.GetString(bytes, IntModelFile.FixedHeaderBytes, BitConverter.ToInt32(bytes, 8));
        var forged = Forge(bytes, json.Replace("\"offset\":0", "\"offset\":4096"));
        Assert.Contains("outside the", Fails(forged).Message);
        Assert.Contains("unknown dtype", Fails(Forge(bytes, json.Replace("\"i32\"", "\"f32\""))).Message);
        Assert.Contains("declares 8 bytes", Fails(Forge(bytes, json.Replace("[2]", "[3]"))).Message);
        var missing = Assert.Throws<IntModelFormatException>(() => IntModelFile.Read("/nonexistent/dir/x.nqim"));
        Assert.Contains("/nonexistent/dir/x.nqim", missing.Message);
    }

    /// <summary>
    /// Version 3 deflates the header: the same model reads back from it as from version 2, the stored header is smaller,
    /// and a header whose declared JSON length is wrong, absurd, or whose deflate stream is damaged (checksum fixed up,
    /// so only the inflater can tell) fails naming the file.
    /// </summary>
    [Fact]
    public void Version_3_deflates_the_header_and_checks_what_it_inflates()
    {
        var model = Sample();
        var v3 = IntModelFile.ToBytes(model);
        var v2 = IntModelFile.ToBytes(model, compressHeader: false);
        Assert.Equal(3, BitConverter.ToInt32(v3, 4));
        Assert.Equal(2, BitConverter.ToInt32(v2, 4));
        AssertSame(model, IntModelFile.FromBytes(v3, "v3"));
        AssertSame(model, IntModelFile.FromBytes(v2, "v2"));
        int stored = BitConverter.ToInt32(v3, 8), json = BitConverter.ToInt32(v3, 28);
        Assert.Equal(BitConverter.ToInt32(v2, 8), json);
        Assert.True(stored < json, $"deflated header {stored} bytes, JSON {json}");

        var shorter = (byte[])v3.Clone();
        BitConverter.GetBytes(json - 1).CopyTo(shorter, 28);
        Assert.Contains("not the", Fails(shorter).Message);
        var longer = (byte[])v3.Clone();
        BitConverter.GetBytes(json + 1).CopyTo(longer, 28);
        Assert.Contains("not the", Fails(longer).Message);
        var absurd = (byte[])v3.Clone();
        BitConverter.GetBytes(int.MaxValue).CopyTo(absurd, 28);
        Assert.Contains("at most", Fails(absurd).Message);
        var damaged = (byte[])v3.Clone();
        damaged[IntModelFile.FixedHeaderBytes] ^= 0xFF;                    // the deflate block header
        BitConverter.GetBytes(Crc32C.Compute(damaged.AsSpan(IntModelFile.FixedHeaderBytes, stored))).CopyTo(damaged, 12);
        var e = Fails(damaged);
        Assert.Contains("model.nqim", e.Message);
    }

    /// <summary>Rebuilds a file around a replaced header (fresh checksum), keeping the payload.</summary>
    private static byte[] Forge(byte[] file, string json)
    {
        int oldHeader = BitConverter.ToInt32(file, 8);
        long payloadStart = (IntModelFile.FixedHeaderBytes + oldHeader + 63) / 64 * 64;
        var payload = file[(int)payloadStart..];
        var h = Encoding.UTF8.GetBytes(json);
        long start = (IntModelFile.FixedHeaderBytes + h.Length + 63) / 64 * 64;
        var r = new byte[start + payload.Length];
        file.AsSpan(0, IntModelFile.FixedHeaderBytes).CopyTo(r);
        BitConverter.GetBytes(h.Length).CopyTo(r, 8);
        BitConverter.GetBytes(Crc32C.Compute(h)).CopyTo(r, 12);
        h.CopyTo(r, IntModelFile.FixedHeaderBytes);
        payload.CopyTo(r, start);
        return r;
    }

    [Fact]
    public void Construction_Guards()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => IntTensor.Codes("w", [2], [3, 16], 4));
        Assert.Throws<ArgumentException>(() => IntTensor.Codes("w", [3], [3, 1], 4));
        Assert.Throws<ArgumentException>(() => new IntModel([IntTensor.Int32("a", [1]), IntTensor.Int32("a", [2])]));
        Assert.Throws<ArgumentException>(() => new IntModel([], "{not json"));
    }
}
