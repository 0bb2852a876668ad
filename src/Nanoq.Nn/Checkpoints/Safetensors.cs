using Nanoq.IO;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
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
/// checkpoint. Nanoq computes in float32; F64, F16, BF16 and the integer dtypes are converted to float32 on reading
/// (PyTorch's int64 <c>num_batches_tracked</c> counters among them).
/// <para>
/// Damage is caught on reading, and every failure is one <see cref="StateDictException"/> line naming the file (and the
/// tensor where there is one): lengths and offsets are checked against the file before anything is allocated; the
/// tensors must tile the data section exactly, without gaps or overlaps and up to its last byte (the rule of the
/// reference Rust reader), so a header length off by one or bytes inserted or cut anywhere are refused; float weights
/// must be finite (a NaN loaded silently poisons every later step). Files written by Nanoq also carry
/// <see cref="ChecksumKey"/>, the SHA-256 of the data section, in <c>__metadata__</c>, and reading verifies it, so a
/// flipped bit inside a weight — which no structural check can see — is refused too. Files from elsewhere have no such
/// key and load on the structural checks alone.
/// </para>
/// <para>
/// Why SHA-256 and not the CRC-32C of NQIM files: it is in the base library (Nn cannot reach Quant's CRC-32C, and a
/// second copy of it would drift), anyone can check it with standard tools
/// (<c>tail -c +$((9 + N)) model.safetensors | sha256sum</c>), and at ≈ 1.5 GB/s with the CPU's SHA instructions a
/// 20 MB checkpoint costs ≈ 15 ms — nothing next to a training step. <see cref="HeaderChecksumKey"/> covers the
/// header in the same way (names, dtypes, shapes, offsets, metadata), in a canonical text form so that it does not
/// depend on the JSON's spacing or order. Both guard against accidents (bit rot, torn
/// copies), not tampering: whoever can edit the data can edit the metadata.
/// </para>
/// </summary>
public static class Safetensors
{
    /// <summary>The <c>__metadata__</c> key holding the lowercase hex SHA-256 of the data section (all bytes after the header).</summary>
    public const string ChecksumKey = "nanoq.data_sha256";

    /// <summary>
    /// The <c>__metadata__</c> key holding the SHA-256 of the header's meaning (see <see cref="TableText"/>): the data
    /// checksum cannot see a flipped bit that renames a tensor or changes a metadata value, this one does.
    /// </summary>
    public const string HeaderChecksumKey = "nanoq.header_sha256";

    private const long MaxHeaderBytes = 100_000_000;

    /// <summary>
    /// Writes <paramref name="tensors"/> (float32, sorted by name) and <paramref name="metadata"/> atomically, with the
    /// data checksum added to the metadata. A tensor holding NaN or ±∞ is refused before anything is written, so a
    /// diverged run cannot replace the last good checkpoint with a poisoned one.
    /// </summary>
    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Big-endian hosts are not supported.");
        var names = tensors.Keys.OrderBy(k => k, StringComparer.Ordinal).ToList();
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var name in names)
        {
            var span = tensors[name].Span;
            if (FirstNonFinite(span) is int bad)
                throw Bad(path, $"tensor '{name}': element {bad} is {span[bad]}; refusing to save non-finite weights (the previous file is kept)");
            sha.AppendData(MemoryMarshal.AsBytes(span));
        }
        string checksum = Convert.ToHexStringLower(sha.GetHashAndReset());

        var meta = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (metadata is not null)
            foreach (var (k, v) in metadata)
                if (k is not (ChecksumKey or HeaderChecksumKey)) meta[k] = v;
        meta[ChecksumKey] = checksum;
        var table = new List<Entry>(names.Count);
        long offset = 0;
        foreach (var name in names)
        {
            var t = tensors[name];
            table.Add(new Entry(name, "F32", t.Shape.Dims.ToArray(), t.Size, offset, offset + 4L * t.Size));
            offset += 4L * t.Size;
        }
        string headerChecksum = Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(TableText(table, meta))));

        using var headerStream = new MemoryStream();
        using (var w = new Utf8JsonWriter(headerStream))
        {
            w.WriteStartObject();
            w.WriteStartObject("__metadata__");
            foreach (var (k, v) in meta) w.WriteString(k, v);
            w.WriteString(HeaderChecksumKey, headerChecksum);
            w.WriteEndObject();
            foreach (var e in table)
            {
                w.WriteStartObject(e.Name);
                w.WriteString("dtype", e.DType);
                w.WriteStartArray("shape");
                foreach (int d in e.Dims) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(e.Begin);
                w.WriteNumberValue(e.End);
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

    /// <summary>Parses a whole safetensors file image; <paramref name="source"/> names it in errors.</summary>
    public static Dictionary<string, Tensor> Parse(byte[] bytes, string source, out Dictionary<string, string> metadata)
    {
        metadata = new Dictionary<string, string>();
        if (bytes.Length < 8) throw Bad(source, $"file is {bytes.Length} bytes, shorter than the 8-byte header length (truncated?)");
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (n > MaxHeaderBytes || 8 + n > (ulong)bytes.Length)
            throw Bad(source, $"header length {n} does not fit a file of {bytes.Length} bytes (truncated or not a safetensors file)");
        int dataStart = 8 + (int)n;
        long dataLength = bytes.Length - dataStart;

        // System.Text.Json checks UTF-8 only when a string is read (an InvalidOperationException deep in the walk): check it here.
        if (!System.Text.Unicode.Utf8.IsValid(bytes.AsSpan(8, (int)n))) throw Bad(source, "header is not valid UTF-8 text");
        JsonDocument doc;
        try { doc = JsonDocument.Parse(bytes.AsMemory(8, (int)n)); }
        catch (JsonException e)
        {
            throw Bad(source, $"header is not valid JSON (line {e.LineNumber}, byte {e.BytePositionInLine}): {FirstLine(e.Message)}");
        }
        using var _ = doc;
        if (doc.RootElement.ValueKind != JsonValueKind.Object) throw Bad(source, "header is not a JSON object");

        // The table first (names, dtypes, shapes, offsets against the file, exact tiling), then the checksum, then the
        // data: a truncated or shifted file is reported by the tensor it breaks, a flipped bit by the checksum.
        var names = new HashSet<string>(StringComparer.Ordinal);
        var entries = new List<Entry>();
        foreach (var prop in doc.RootElement.EnumerateObject())
        {
            if (!names.Add(prop.Name)) throw Bad(source, $"the header names '{prop.Name}' twice");
            if (prop.Name == "__metadata__")
            {
                if (prop.Value.ValueKind == JsonValueKind.Object)
                    foreach (var m in prop.Value.EnumerateObject()) metadata[m.Name] = m.Value.ToString();
                continue;
            }
            entries.Add(ReadEntry(prop, dataLength, source));
        }
        CheckTiling(entries, dataLength, source);
        if (metadata.TryGetValue(HeaderChecksumKey, out var storedHeader))
        {
            var meta = new SortedDictionary<string, string>(StringComparer.Ordinal);
            foreach (var (k, v) in metadata)
                if (k != HeaderChecksumKey) meta[k] = v;
            string actual = Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(TableText(entries, meta))));
            if (!string.Equals(storedHeader, actual, StringComparison.OrdinalIgnoreCase))
                throw Bad(source, $"header checksum mismatch ({HeaderChecksumKey} stored {Short(storedHeader)}, computed {Short(actual)}): a tensor name, shape or metadata value is damaged");
        }
        if (metadata.TryGetValue(ChecksumKey, out var stored))
        {
            string actual = Convert.ToHexStringLower(SHA256.HashData(bytes.AsSpan(dataStart)));
            if (!string.Equals(stored, actual, StringComparison.OrdinalIgnoreCase))
                throw Bad(source, $"data checksum mismatch ({ChecksumKey} stored {Short(stored)}, computed {Short(actual)}): the tensor data is damaged");
        }

        var result = new Dictionary<string, Tensor>(entries.Count);
        foreach (var e in entries)
        {
            var t = Tensor.FromArray(new float[e.Count], e.Dims.Length == 0 ? [] : e.Dims);
            Decode(bytes.AsSpan(dataStart + (int)e.Begin, (int)(e.End - e.Begin)), e.DType, t.Span);
            if (e.DType is "F32" or "F64" or "F16" or "BF16" && FirstNonFinite(t.Span) is int bad)
                throw Bad(source, $"tensor '{e.Name}': element {bad} is {t.Span[bad]} (non-finite weights: a diverged run or a damaged file)");
            result[e.Name] = t;
        }
        return result;
    }

    private readonly record struct Entry(string Name, string DType, int[] Dims, long Count, long Begin, long End);

    /// <summary>
    /// The canonical text the header checksum is taken of: one line <c>name TAB dtype TAB d0,d1,… TAB begin TAB end</c> per
    /// tensor in ordinal name order, then one line <c>key TAB value</c> per metadata entry in ordinal key order (the
    /// header checksum itself left out, the data checksum included).
    /// </summary>
    private static string TableText(IEnumerable<Entry> entries, SortedDictionary<string, string> metadata)
    {
        var sb = new System.Text.StringBuilder();
        foreach (var e in entries.OrderBy(e => e.Name, StringComparer.Ordinal))
            sb.Append(e.Name).Append('\t').Append(e.DType).Append('\t').AppendJoin(',', e.Dims)
              .Append('\t').Append(e.Begin).Append('\t').Append(e.End).Append('\n');
        foreach (var (k, v) in metadata) sb.Append(k).Append('\t').Append(v).Append('\n');
        return sb.ToString();
    }

    /// <summary>One tensor's header entry, checked against the <paramref name="dataLength"/> bytes of data before anything is allocated.</summary>
    private static Entry ReadEntry(JsonProperty prop, long dataLength, string source)
    {
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
        if (begin < 0 || end < begin || end > dataLength)
            throw Bad(source, $"{where}: data_offsets [{begin}, {end}] lie outside the {dataLength} data bytes (truncated file?)");
        // The element count is bounded by the bytes it claims before it is trusted (no overflow, no huge allocation).
        long count = dims.Contains(0) ? 0 : 1;
        for (int i = 0; i < dims.Length && count > 0; i++)
            count = count > (end - begin) / dims[i] ? -1 : count * dims[i];
        if (count < 0 || end - begin != count * elemSize)
            throw Bad(source, $"{where}: {end - begin} bytes for shape [{string.Join(", ", dims)}] of {dtype} (needs {(count < 0 ? "more" : (count * elemSize).ToString())})");
        return new Entry(prop.Name, dtype, dims, count, begin, end);
    }

    /// <summary>
    /// The tensors must cover the data section exactly once: sorted by offset, each starts where the previous ended and
    /// the last ends at the end of the file. A header length one too small, bytes inserted or a truncated tail all break it.
    /// </summary>
    private static void CheckTiling(List<Entry> entries, long dataLength, string source)
    {
        var spans = entries.Select(e => (e.Begin, e.End, e.Name)).OrderBy(s => s.Begin).ThenBy(s => s.End).ToList();
        long at = 0;
        string previous = "the start of the data";
        foreach (var (begin, end, name) in spans)
        {
            if (begin == end) continue; // empty tensors occupy nothing
            if (begin != at)
                throw Bad(source, begin > at
                    ? $"tensor '{name}' starts at data byte {begin}, leaving a gap of {begin - at} bytes after {previous} (bytes inserted, or a wrong header length?)"
                    : $"tensor '{name}' starts at data byte {begin}, inside {previous}, which ends at {at}");
            at = end;
            previous = $"tensor '{name}'";
        }
        if (at != dataLength)
            throw Bad(source, $"the data section has {dataLength} bytes but the tensors cover {at}: {dataLength - at} bytes past {previous} (bytes inserted, or a wrong header length?)");
    }

    private static int? FirstNonFinite(ReadOnlySpan<float> values)
    {
        for (int i = 0; i < values.Length; i++)
            if (!float.IsFinite(values[i])) return i;
        return null;
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

    private static string Short(string hex) => hex.Length > 16 ? hex[..16] + "…" : hex;

    // System.Text.Json appends "LineNumber: … | BytePositionInLine: …" and sometimes a second sentence; one line is enough.
    private static string FirstLine(string message)
    {
        int cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return (cut > 0 ? message[..cut] : message).ReplaceLineEndings(" ").TrimEnd('.', ' ');
    }

    // One line whatever the file held: control characters in a damaged tensor name or dtype are shown escaped.
    private static StateDictException Bad(string source, string what)
    {
        var text = new System.Text.StringBuilder();
        foreach (char c in $"{source}: {what}.") text.Append(c < 0x20 || c == 0x7F ? $"\\u{(int)c:x4}" : c.ToString());
        return new StateDictException(text.ToString());
    }
}
