using System.Buffers.Binary;
using System.Text;
using Nanoq.Nn;
using Nanoq.Nn.Checkpoints;
using Xunit.Abstractions;

namespace Nanoq.Tests;

/// <summary>
/// Issue 19's fuzz target for the safetensors reader: mutants of a Nanoq checkpoint (checksummed) and of foreign files
/// in every dtype (no checksum, so mutants reach the table and data checks) must load or fail with a
/// <see cref="StateDictException"/> naming the source in one line. CI size, long runs: see <c>tests/Shared/Fuzz.cs</c>.
/// </summary>
public sealed class SafetensorsFuzzTests(ITestOutputHelper output)
{
    /// <summary>A foreign-style file: the given (name, dtype, shape, raw bytes) entries, no metadata, compact JSON.</summary>
    private static byte[] Foreign(params (string Name, string DType, int[] Shape, byte[] Data)[] tensors)
    {
        var header = new StringBuilder("{");
        long offset = 0;
        foreach (var (name, dtype, shape, data) in tensors)
        {
            if (header.Length > 1) header.Append(',');
            header.Append($"\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":[{string.Join(",", shape)}],\"data_offsets\":[{offset},{offset + data.Length}]}}");
            offset += data.Length;
        }
        header.Append('}');
        var h = Encoding.UTF8.GetBytes(header.ToString());
        var file = new byte[8 + h.Length + offset];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)h.Length);
        h.CopyTo(file, 8);
        int at = 8 + h.Length;
        foreach (var t in tensors) { t.Data.CopyTo(file, at); at += t.Data.Length; }
        return file;
    }

    private static byte[] Floats(params float[] v) => v.SelectMany(BitConverter.GetBytes).ToArray();

    [Fact]
    public void Safetensors_()
    {
        string dir = Directory.CreateTempSubdirectory("nanoq-stfuzz-").FullName;
        try
        {
            string path = Path.Combine(dir, "seed.safetensors");
            Safetensors.Save(path, new Dictionary<string, Tensor>
            {
                ["conv.weight"] = new Rng(2).Normal(new Shape(2, 1, 3, 3)),
                ["bn.running_var"] = Tensor.FromArray([1f, 2f], 2),
                ["empty"] = Tensor.Zeros(0, 4),
            }, new Dictionary<string, string> { ["step"] = "100" });
            var seeds = new[]
            {
                File.ReadAllBytes(path),
                Foreign(("w", "F32", [2, 2], Floats(1, 2, 3, 4)), ("h", "F16", [3], [0, 60, 0, 64, 0, 188]), ("b", "BF16", [1], [128, 63])),
                Foreign(("n", "I64", [1], BitConverter.GetBytes(12L)), ("d", "F64", [1], BitConverter.GetBytes(0.5)), ("m", "U8", [3], [1, 2, 3]), ("s", "I32", [], [7, 0, 0, 0])),
            };
            const string source = "fuzz.safetensors";
            var report = Nanoq.Testing.Fuzz.Run("safetensors", seeds, Nanoq.Testing.Fuzz.Iterations(300), seed: 24, text: false,
                bytes => Safetensors.Parse(bytes, source, out _),
                ex => ex is StateDictException && ex.Message.StartsWith(source + ": ", StringComparison.Ordinal) && !ex.Message.Contains('\n'));
            output.WriteLine(report.ToString());
            Assert.True(report.Crashes.Count == 0, string.Join("\n", report.Crashes.Take(10)));
            Assert.True(report.Accepted > 0 && report.Rejected > 0, report.ToString());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
