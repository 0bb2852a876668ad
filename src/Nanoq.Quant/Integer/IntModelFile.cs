using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Nanoq.IO;

namespace Nanoq.Quant.Integer;

/// <summary>
/// NQIM, the versioned binary container of integer models. Little-endian:
/// <code>
///     offset  size  field
///      0       4    magic "NQIM"
///      4       4    version (u32, 3; 2 is read too)
///      8       4    stored header length H (u32)
///     12       4    CRC-32C of the stored header bytes (u32)
///     16       8    payload length P (u64)
///     24       4    CRC-32C of the payload bytes (u32)
///     28       4    header JSON length U (u32; version 2: reserved, 0)
///     32       H    header: UTF-8 JSON, deflated (RFC 1951) to H bytes in version 3, plain (H = its length) in
///                   version 2; then zeros to the next multiple of 64
///     …        P    payload: tensor data, each tensor at a 64-byte aligned offset (relative to the payload)
/// </code>
/// The file ends exactly after the payload. Header JSON:
/// <code>
///     { "format": "NQIM", "version": 1,
///       "tensors": [ { "name": "…", "dtype": "u8|s8|i16|i32", "bits": k, "storage": "raw|u4",
///                      "shape": [ … ], "offset": o, "bytes": b }, … ],
///       "graph": &lt;any JSON value&gt;, "metadata": { "key": "value", … } }
/// </code>
/// "u4" storage holds codes of k ≤ 4 bits two per byte: element 2i in the low nibble of byte i, 2i + 1 in the high.
/// The header is deflated because it is the file's largest part after the weight codes: a 4-bit model's per-op graph
/// and tensor table ran to 54 KB of JSON beside 565 KB of codes (the default detector), and deflate takes it to 5 KB —
/// what brings the file under 1/7.5 of the float32 weights. Two checksums so a failure says which part is damaged. Every length is checked against the file before anything is
/// allocated from it, and every failure is an <see cref="IntModelFormatException"/> naming the file and the problem.
/// Writes are atomic (temporary file, flush, rename).
/// <para>
/// Version 2 (issue 13) holds an integer program (<see cref="Program.IntProgramFormat"/>) for any model; version 3 is the
/// same with the header deflated. Version 1 files held the RetinaNet-specific graph of earlier releases; they are refused
/// with a message saying to convert again.
/// </para>
/// </summary>
public static class IntModelFile
{
    public const int Version = 3;

    /// <summary>The largest header JSON a reader inflates (a damaged or hostile U cannot make it allocate more).</summary>
    public const int MaxHeaderBytes = 64 << 20;
    public const int FixedHeaderBytes = 32;
    private const int Alignment = 64;
    private static readonly byte[] Magic = "NQIM"u8.ToArray();

    /// <summary>Writes <paramref name="model"/> to <paramref name="path"/> atomically.</summary>
    public static void Write(string path, IntModel model)
    {
        var bytes = ToBytes(model);
        AtomicFile.Write(path, stream => stream.Write(bytes));
    }

    /// <summary>Reads the model at <paramref name="path"/>; damaged or truncated files throw <see cref="IntModelFormatException"/>.</summary>
    public static IntModel Read(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new IntModelFormatException(path, "the file does not exist.", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IntModelFormatException(path, $"the file cannot be read ({e.Message}).", e);
        }
        return FromBytes(bytes, path);
    }

    /// <summary>
    /// The file image of <paramref name="model"/>: version 3 (header deflated), or with <paramref name="compressHeader"/>
    /// false version 2 (plain JSON header; for tests and tools that edit the header text).
    /// </summary>
    public static byte[] ToBytes(IntModel model, bool compressHeader = true)
    {
        // Payload layout first: each tensor at an aligned offset.
        var stored = new byte[model.Tensors.Count][];
        var offsets = new long[model.Tensors.Count];
        long payload = 0;
        for (int i = 0; i < stored.Length; i++)
        {
            var t = model.Tensors[i];
            stored[i] = t.IsPackedInFile ? PackNibbles(t.Bytes) : t.Bytes.ToArray();
            offsets[i] = payload;
            payload = Align(payload + stored[i].Length);
        }

        var header = new MemoryStream();
        using (var w = new Utf8JsonWriter(header))
        {
            w.WriteStartObject();
            w.WriteString("format", "NQIM");
            w.WriteNumber("version", compressHeader ? Version : 2);
            w.WriteStartArray("tensors");
            for (int i = 0; i < stored.Length; i++)
            {
                var t = model.Tensors[i];
                w.WriteStartObject();
                w.WriteString("name", t.Name);
                w.WriteString("dtype", DTypeName(t.DType));
                w.WriteNumber("bits", t.Bits);
                w.WriteString("storage", t.IsPackedInFile ? "u4" : "raw");
                w.WriteStartArray("shape");
                foreach (int d in t.Shape) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteNumber("offset", offsets[i]);
                w.WriteNumber("bytes", (long)stored[i].Length);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WritePropertyName("graph");
            w.WriteRawValue(model.GraphJson);
            w.WriteStartObject("metadata");
            foreach (var kv in model.Metadata) w.WriteString(kv.Key, kv.Value);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        var json = header.ToArray();
        var headerBytes = compressHeader ? Deflate(json) : json;
        long payloadStart = Align(FixedHeaderBytes + headerBytes.Length);
        var file = new byte[checked(payloadStart + payload)];
        for (int i = 0; i < stored.Length; i++) stored[i].CopyTo(file, payloadStart + offsets[i]);
        Magic.CopyTo(file, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(4), compressHeader ? (uint)Version : 2u);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(8), (uint)headerBytes.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(12), Crc32C.Compute(headerBytes));
        BinaryPrimitives.WriteUInt64LittleEndian(file.AsSpan(16), (ulong)payload);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(24), Crc32C.Compute(file.AsSpan((int)payloadStart)));
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(28), compressHeader ? (uint)json.Length : 0u);
        headerBytes.CopyTo(file, FixedHeaderBytes);
        return file;
    }

    /// <summary>Parses a file image; <paramref name="source"/> names it in errors.</summary>
    public static IntModel FromBytes(ReadOnlySpan<byte> file, string source)
    {
        if (file.Length < FixedHeaderBytes)
            throw Fail(source, $"truncated: {file.Length} bytes, but the fixed header alone is {FixedHeaderBytes}.");
        if (!file[..4].SequenceEqual(Magic))
            throw Fail(source, $"not an NQIM file (it starts with {Hex(file[..4])}, expected \"NQIM\").");
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(file[4..]);
        if (version == 1)
            throw Fail(source, "format version 1 (the RetinaNet-specific integer graph of Nanoq before the integer program) is no longer read; convert the fine-tuned checkpoint again (nanoq convert).");
        if (version is not (2 or Version))
            throw Fail(source, $"format version {version} is not supported (this reader reads versions 2 and {Version}).");
        uint headerLength = BinaryPrimitives.ReadUInt32LittleEndian(file[8..]);
        uint headerCrc = BinaryPrimitives.ReadUInt32LittleEndian(file[12..]);
        ulong payloadLength = BinaryPrimitives.ReadUInt64LittleEndian(file[16..]);
        uint payloadCrc = BinaryPrimitives.ReadUInt32LittleEndian(file[24..]);
        long payloadStart = Align(FixedHeaderBytes + (long)headerLength);
        if (payloadLength > long.MaxValue / 2 || payloadStart + (long)payloadLength != file.Length)
        {
            string want = payloadLength > long.MaxValue / 2 ? "an impossible size" : $"{payloadStart + (long)payloadLength} bytes";
            bool shorter = payloadLength > long.MaxValue / 2 || file.Length < payloadStart + (long)payloadLength;
            throw Fail(source, shorter
                ? $"truncated: the header declares {headerLength} bytes of JSON and {payloadLength} of payload ({want} in all), but the file has {file.Length}."
                : $"size mismatch: the header declares {headerLength} bytes of JSON and {payloadLength} of payload ({want} in all), but the file has {file.Length}.");
        }
        ReadOnlySpan<byte> headerBytes = file.Slice(FixedHeaderBytes, (int)headerLength);
        uint actualHeaderCrc = Crc32C.Compute(headerBytes);
        if (actualHeaderCrc != headerCrc)
            throw Fail(source, $"header checksum mismatch (stored 0x{headerCrc:X8}, computed 0x{actualHeaderCrc:X8}): the header is damaged.");
        if (version == Version) headerBytes = Inflate(headerBytes, BinaryPrimitives.ReadUInt32LittleEndian(file[28..]), source);
        var payload = file[(int)payloadStart..];
        uint actualPayloadCrc = Crc32C.Compute(payload);
        if (actualPayloadCrc != payloadCrc)
            throw Fail(source, $"payload checksum mismatch (stored 0x{payloadCrc:X8}, computed 0x{actualPayloadCrc:X8}): the tensor data is damaged.");

        JsonDocument doc;
        if (!System.Text.Unicode.Utf8.IsValid(headerBytes))
            throw Fail(source, "the header is not valid UTF-8.");
        try
        {
            doc = JsonDocument.Parse(headerBytes.ToArray());
        }
        catch (JsonException e)
        {
            throw Fail(source, $"the header is not valid JSON ({e.Message}).", e);
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw Fail(source, "the header JSON is not an object.");
            try
            {
                return Parse(root, payload, source);
            }
            catch (InvalidOperationException e)
            {
                throw Fail(source, $"the header is malformed ({e.Message}).", e);
            }
        }
    }

    private static byte[] Deflate(byte[] json)
    {
        var output = new MemoryStream();
        using (var z = new System.IO.Compression.DeflateStream(output, System.IO.Compression.CompressionLevel.SmallestSize, leaveOpen: true))
            z.Write(json);
        return output.ToArray();
    }

    /// <summary>The header JSON of a version-3 file: exactly <paramref name="length"/> bytes inflated, or an error naming the file.</summary>
    private static byte[] Inflate(ReadOnlySpan<byte> stored, uint length, string source)
    {
        if (length == 0 || length > MaxHeaderBytes)
            throw Fail(source, $"the header declares {length} bytes of JSON (at most {MaxHeaderBytes} are read).");
        var json = new byte[length];
        try
        {
            using var z = new System.IO.Compression.DeflateStream(new MemoryStream(stored.ToArray()), System.IO.Compression.CompressionMode.Decompress);
            int read = 0;
            while (read < json.Length && z.Read(json, read, json.Length - read) is var n and > 0) read += n;
            if (read != json.Length || z.ReadByte() != -1)
                throw Fail(source, $"the header inflates to {(read != json.Length ? read : "more than " + read)} bytes, not the {length} it declares.");
        }
        catch (InvalidDataException e)
        {
            throw Fail(source, $"the header does not inflate ({e.Message}).", e);
        }
        return json;
    }

    private static IntModel Parse(JsonElement root, ReadOnlySpan<byte> payload, string source)
    {
        {
            if (!root.TryGetProperty("tensors", out var tensorsJson) || tensorsJson.ValueKind != JsonValueKind.Array)
                throw Fail(source, "the header has no \"tensors\" array.");
            var tensors = new List<IntTensor>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            int index = 0;
            foreach (var tj in tensorsJson.EnumerateArray())
            {
                var t = ReadTensor(tj, index++, payload, source);
                if (!names.Add(t.Name)) throw Fail(source, $"two tensors are named '{t.Name}'.");
                tensors.Add(t);
            }
            string graph = root.TryGetProperty("graph", out var g) ? g.GetRawText() : "{}";
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            if (root.TryGetProperty("metadata", out var m))
            {
                if (m.ValueKind != JsonValueKind.Object) throw Fail(source, "\"metadata\" is not an object.");
                foreach (var p in m.EnumerateObject())
                {
                    if (p.Value.ValueKind != JsonValueKind.String) throw Fail(source, $"metadata '{p.Name}' is not a string.");
                    metadata[p.Name] = p.Value.GetString()!;
                }
            }
            return new IntModel(tensors, graph, metadata);
        }
    }

    private static IntTensor ReadTensor(JsonElement tj, int index, ReadOnlySpan<byte> payload, string source)
    {
        string where = $"tensor #{index}";
        if (tj.ValueKind != JsonValueKind.Object) throw Fail(source, $"{where} is not an object.");
        string name = String(tj, "name", where, source);
        where = $"tensor #{index} '{name}'";
        var dtype = ParseDType(String(tj, "dtype", where, source), where, source);
        int bits = (int)Integer(tj, "bits", where, source, 1, 32);
        string storage = String(tj, "storage", where, source);
        if (storage is not ("raw" or "u4")) throw Fail(source, $"{where} has unknown storage \"{storage}\".");
        if (!tj.TryGetProperty("shape", out var shapeJson) || shapeJson.ValueKind != JsonValueKind.Array)
            throw Fail(source, $"{where} has no \"shape\" array.");
        var shape = new int[shapeJson.GetArrayLength()];
        long count = 1;
        int d = 0;
        foreach (var dj in shapeJson.EnumerateArray())
        {
            if (dj.ValueKind != JsonValueKind.Number || !dj.TryGetInt32(out int v) || v < 0)
                throw Fail(source, $"{where} has an invalid dimension {dj.GetRawText()}.");
            shape[d++] = v;
            count = count > 0 && v > 0 && count > long.MaxValue / v ? throw Fail(source, $"{where} has an impossible shape.") : count * v;
        }
        long offset = Integer(tj, "offset", where, source, 0, long.MaxValue);
        long bytes = Integer(tj, "bytes", where, source, 0, long.MaxValue);
        bool packed = storage == "u4";
        if (packed && (dtype != IntDType.U8 || bits > 4)) throw Fail(source, $"{where}: u4 storage needs u8 codes of at most 4 bits, got {dtype} with {bits} bits.");
        long expected = packed ? (count + 1) / 2 : count * IntTensor.ElementSize(dtype);
        if (bytes != expected)
            throw Fail(source, $"{where} declares {bytes} bytes but shape [{string.Join(", ", shape)}] of {dtype} in {storage} storage needs {expected}.");
        if (offset > payload.Length || bytes > payload.Length - offset)
            throw Fail(source, $"{where} lies at [{offset}, {offset + bytes}) outside the {payload.Length}-byte payload.");
        var raw = payload.Slice((int)offset, (int)bytes);
        byte[] data = packed ? UnpackNibbles(raw, count) : raw.ToArray();
        if (dtype == IntDType.U8 && bits > 8) throw Fail(source, $"{where}: codes of {bits} bits do not fit a byte.");
        if (dtype != IntDType.U8 && bits != 8 * IntTensor.ElementSize(dtype))
            throw Fail(source, $"{where}: {dtype} elements have {8 * IntTensor.ElementSize(dtype)} bits, the header says {bits}.");
        try
        {
            return IntTensor.FromBytes(name, dtype, shape, bits, data);
        }
        catch (ArgumentException e)
        {
            throw Fail(source, $"{where}: {e.Message}", e);
        }
    }

    private static string String(JsonElement o, string key, string where, string source) =>
        o.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : throw Fail(source, $"{where} has no string \"{key}\".");

    private static long Integer(JsonElement o, string key, string where, string source, long min, long max)
    {
        if (!o.TryGetProperty(key, out var v) || v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out long r))
            throw Fail(source, $"{where} has no integer \"{key}\".");
        if (r < min || r > max) throw Fail(source, $"{where} has \"{key}\" = {r}, outside [{min}, {max}].");
        return r;
    }

    private static IntDType ParseDType(string s, string where, string source) => s switch
    {
        "u8" => IntDType.U8,
        "s8" => IntDType.S8,
        "i16" => IntDType.I16,
        "i32" => IntDType.I32,
        _ => throw Fail(source, $"{where} has unknown dtype \"{s}\"."),
    };

    private static string DTypeName(IntDType t) => t switch
    {
        IntDType.U8 => "u8",
        IntDType.S8 => "s8",
        IntDType.I16 => "i16",
        IntDType.I32 => "i32",
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };

    /// <summary>Two codes a byte: element 2i in the low nibble, 2i + 1 in the high nibble (codes ≤ 15).</summary>
    public static byte[] PackNibbles(ReadOnlySpan<byte> codes)
    {
        var r = new byte[(codes.Length + 1) / 2];
        for (int i = 0; i < codes.Length; i++)
        {
            if (codes[i] > 15) throw new ArgumentOutOfRangeException(nameof(codes), $"PackNibbles: code {codes[i]} at {i} does not fit 4 bits.");
            r[i >> 1] |= (byte)(codes[i] << ((i & 1) * 4));
        }
        return r;
    }

    /// <summary>The inverse of <see cref="PackNibbles"/> for <paramref name="count"/> codes.</summary>
    public static byte[] UnpackNibbles(ReadOnlySpan<byte> packed, long count)
    {
        var r = new byte[count];
        for (long i = 0; i < count; i++) r[i] = (byte)((packed[(int)(i >> 1)] >> (int)((i & 1) * 4)) & 0xF);
        return r;
    }

    private static long Align(long n) => (n + Alignment - 1) / Alignment * Alignment;

    private static string Hex(ReadOnlySpan<byte> b) => System.Convert.ToHexString(b);

    private static IntModelFormatException Fail(string source, string problem, Exception? inner = null) => new(source, problem, inner);
}
