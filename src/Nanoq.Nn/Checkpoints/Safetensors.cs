using Nanoq.IO;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Nanoq.Nn.Checkpoints;

/// <summary>
/// Reads and writes the safetensors format (DESIGN.md §4), so a checkpoint opens in PyTorch and others:
/// <code>
///   u64 little-endian N | N bytes of JSON header | raw little-endian tensor data
///   header: { "name": { "dtype": "F32", "shape": [..], "data_offsets": [begin, end] }, …, "__metadata__": { str: str } }
/// </code>
/// offsets are relative to the start of the data. Writing is atomic: a temporary file in the same folder is
/// written, flushed to disk and renamed over the target, so an interrupted save never destroys the previous
/// checkpoint. Reading checks every offset and size against the file and names the tensor at fault.
/// Nanoq computes in float32; F64, F16, BF16 and the integer dtypes are converted to float32 on reading
/// (PyTorch's int64 <c>num_batches_tracked</c> counters among them).
/// </summary>
public static class Safetensors
{
    private const long MaxHeaderBytes = 100_000_000;

    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var names = tensors.Keys.OrderBy(k => k, StringComparer.Ordinal).ToList();
        long offset = 0;
        using var headerStream = new MemoryStream();
        using (var w = new Utf8JsonWriter(headerStream))
        {
            w.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                w.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata) w.WriteString(k, v);
                w.WriteEndObject();
            }
            foreach (var name in names)
            {
                var t = tensors[name];
                w.WriteStartObject(name);
                w.WriteString("dtype", "F32");
                w.WriteStartArray("shape");
                foreach (int d in t.Shape.Dims) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                offset += 4L * t.Size;
                w.WriteNumberValue(offset);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        // Pad the header with spaces to a multiple of 8 so the data is aligned (as the reference writer does).
        var header = headerStream.ToArray();
        int padded = (header.Length + 7) / 8 * 8;

        AtomicFile.Write(path, stream =>
        {
            Span<byte> len = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)padded);
            stream.Write(len);
            stream.Write(header);
            for (int i = header.Length; i < padded; i++) stream.WriteByte((byte)' ');
            if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Big-endian hosts are not supported.");
            foreach (var name in names)
                stream.Write(MemoryMarshal.AsBytes((ReadOnlySpan<float>)tensors[name].Span));
        });
    }

    /// <summary>Loads every tensor of a safetensors file as float32.</summary>
    public static Dictionary<string, Tensor> Load(string path) => Load(path, out _);

    public static Dictionary<string, Tensor> Load(string path, out Dictionary<string, string> metadata)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StateDictException($"{path}: cannot read checkpoint: {e.Message}", e);
        }
        return Parse(bytes, path, out metadata);
    }

    public static Dictionary<string, Tensor> Parse(byte[] bytes, string source, out Dictionary<string, string> metadata)
    {
        metadata = new Dictionary<string, string>();
        if (bytes.Length < 8) throw Bad(source, $"file is {bytes.Length} bytes, shorter than the 8-byte header length (truncated?)");
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (n > MaxHeaderBytes || 8 + n > (ulong)bytes.Length)
            throw Bad(source, $"header length {n} does not fit a file of {bytes.Length} bytes (truncated or not a safetensors file)");
        int dataStart = 8 + (int)n;
        long dataLength = bytes.Length - dataStart;

        JsonDocument doc;
        try { doc = JsonDocument.Parse(bytes.AsMemory(8, (int)n)); }
        catch (JsonException e)
        {
            throw Bad(source, $"header is not valid JSON (line {e.LineNumber}, byte {e.BytePositionInLine}): {e.Message}");
        }
        using var _ = doc;
        if (doc.RootElement.ValueKind != JsonValueKind.Object) throw Bad(source, "header is not a JSON object");

        var result = new Dictionary<string, Tensor>();
        foreach (var prop in doc.RootElement.EnumerateObject())
        {
            if (prop.Name == "__metadata__")
            {
                if (prop.Value.ValueKind == JsonValueKind.Object)
                    foreach (var m in prop.Value.EnumerateObject()) metadata[m.Name] = m.Value.ToString();
                continue;
            }
            var e = prop.Value;
            string where = $"tensor '{prop.Name}'";
            if (e.ValueKind != JsonValueKind.Object
                || !e.TryGetProperty("dtype", out var dtypeEl) || dtypeEl.ValueKind != JsonValueKind.String
                || !e.TryGetProperty("shape", out var shapeEl) || shapeEl.ValueKind != JsonValueKind.Array
                || !e.TryGetProperty("data_offsets", out var offEl) || offEl.ValueKind != JsonValueKind.Array || offEl.GetArrayLength() != 2)
                throw Bad(source, $"{where}: needs dtype, shape and data_offsets [begin, end]");
            int[] dims;
            long begin, end;
            try
            {
                dims = shapeEl.EnumerateArray().Select(d => d.GetInt32()).ToArray();
                begin = offEl[0].GetInt64();
                end = offEl[1].GetInt64();
            }
            catch (Exception ex) when (ex is FormatException or InvalidOperationException)
            {
                throw Bad(source, $"{where}: shape and data_offsets must be integers");
            }
            if (dims.Any(d => d < 0)) throw Bad(source, $"{where}: negative dimension in shape [{string.Join(", ", dims)}]");
            string dtype = dtypeEl.GetString()!;
            int elemSize = dtype switch
            {
                "F32" or "I32" or "U32" => 4,
                "F64" or "I64" or "U64" => 8,
                "F16" or "BF16" or "I16" or "U16" => 2,
                "I8" or "U8" or "BOOL" => 1,
                _ => throw Bad(source, $"{where}: unsupported dtype '{dtype}'"),
            };
            long count = 1;
            foreach (int d in dims) count *= d;
            if (begin < 0 || end < begin || end > dataLength)
                throw Bad(source, $"{where}: data_offsets [{begin}, {end}] lie outside the {dataLength} data bytes (truncated file?)");
            if (end - begin != count * elemSize)
                throw Bad(source, $"{where}: {end - begin} bytes for shape [{string.Join(", ", dims)}] of {dtype} (needs {count * elemSize})");
            var t = Tensor.FromArray(new float[count], dims.Length == 0 ? [] : dims);
            Decode(bytes.AsSpan(dataStart + (int)begin, (int)(end - begin)), dtype, t.Span);
            result[prop.Name] = t;
        }
        return result;
    }

    private static void Decode(ReadOnlySpan<byte> src, string dtype, Span<float> dst)
    {
        switch (dtype)
        {
            case "F32": MemoryMarshal.Cast<byte, float>(src).CopyTo(dst); break;
            case "F64": for (int i = 0; i < dst.Length; i++) dst[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(src[(8 * i)..]); break;
            case "F16": for (int i = 0; i < dst.Length; i++) dst[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(src[(2 * i)..]); break;
            case "BF16": for (int i = 0; i < dst.Length; i++) dst[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(src[(2 * i)..]) << 16); break;
            case "I64": for (int i = 0; i < dst.Length; i++) dst[i] = BinaryPrimitives.ReadInt64LittleEndian(src[(8 * i)..]); break;
            case "U64": for (int i = 0; i < dst.Length; i++) dst[i] = BinaryPrimitives.ReadUInt64LittleEndian(src[(8 * i)..]); break;
            case "I32": for (int i = 0; i < dst.Length; i++) dst[i] = BinaryPrimitives.ReadInt32LittleEndian(src[(4 * i)..]); break;
            case "U32": for (int i = 0; i < dst.Length; i++) dst[i] = BinaryPrimitives.ReadUInt32LittleEndian(src[(4 * i)..]); break;
            case "I16": for (int i = 0; i < dst.Length; i++) dst[i] = BinaryPrimitives.ReadInt16LittleEndian(src[(2 * i)..]); break;
            case "U16": for (int i = 0; i < dst.Length; i++) dst[i] = BinaryPrimitives.ReadUInt16LittleEndian(src[(2 * i)..]); break;
            case "I8": for (int i = 0; i < dst.Length; i++) dst[i] = (sbyte)src[i]; break;
            default: for (int i = 0; i < dst.Length; i++) dst[i] = src[i]; break; // U8, BOOL
        }
    }

    private static StateDictException Bad(string source, string what) => new($"{source}: {what}.");
}
