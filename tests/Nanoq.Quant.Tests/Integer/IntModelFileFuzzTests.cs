using System.Buffers.Binary;
using Nanoq.Quant.Integer;
using Xunit.Abstractions;

namespace Nanoq.Tests.Integer;

/// <summary>
/// Issue 19's fuzz target for the NQIM reader: mutants of a model file — most with both CRC-32C fields recomputed, so they
/// reach the header JSON and the tensor table — must load or fail with an <see cref="IntModelFormatException"/> naming
/// the source in one line. CI size, long runs: see <c>tests/Shared/Fuzz.cs</c>.
/// </summary>
public sealed class IntModelFileFuzzTests(ITestOutputHelper output)
{
    private static byte[] Seed()
    {
        var rng = new Rng(7);
        return IntModelFile.ToBytes(new IntModel(
        [
            IntTensor.Codes("conv.weight", [2, 1, 3, 3], Enumerable.Range(0, 18).Select(_ => (byte)rng.NextInt(16)).ToArray(), 4),
            IntTensor.Codes("fc.weight", [3, 5], Enumerable.Range(0, 15).Select(_ => (byte)rng.NextInt(256)).ToArray(), 8),
            IntTensor.Int32("conv.bias", [-5, 7]),
            IntTensor.Int16("table", [2], [-3, 4]),
            IntTensor.SByte("s", [1], [-128]),
        ],
        """{"layers":[{"name":"conv","op":"conv2d","inputs":["x"],"stride":1}]}""",
        new Dictionary<string, string> { ["producer"] = "fuzz" }));
    }

    /// <summary>Recomputes the header and payload CRC-32C fields of a (mutated) file where its lengths allow.</summary>
    private static byte[] FixCrcs(byte[] file)
    {
        if (file.Length < IntModelFile.FixedHeaderBytes) return file;
        uint h = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(8));
        if (h > file.Length - IntModelFile.FixedHeaderBytes) return file;
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(12), Crc32C.Compute(file.AsSpan(IntModelFile.FixedHeaderBytes, (int)h)));
        long payloadStart = (IntModelFile.FixedHeaderBytes + h + 63) / 64 * 64;
        if (payloadStart <= file.Length)
            BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(24), Crc32C.Compute(file.AsSpan((int)payloadStart)));
        return file;
    }

    [Fact]
    public void Nqim()
    {
        const string source = "fuzz.nqm";
        var report = Nanoq.Testing.Fuzz.Run("nqim", [Seed()], Nanoq.Testing.Fuzz.Iterations(300), seed: 25, text: false,
            bytes => IntModelFile.FromBytes(bytes, source),
            ex => ex is IntModelFormatException f && f.File == source && !ex.Message.Contains('\n'),
            fixup: FixCrcs);
        output.WriteLine(report.ToString());
        Assert.True(report.Crashes.Count == 0, string.Join("\n", report.Crashes.Take(10)));
        Assert.True(report.Rejected > 0, report.ToString());
    }
}
