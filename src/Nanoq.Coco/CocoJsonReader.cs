using System.Text;
using System.Text.Json;

namespace Nanoq.Coco;

/// <summary>
/// Reads COCO json (ground truth and results) with System.Text.Json's DOM, walking it by hand so that every
/// error names the file and the json path. Unknown fields are ignored (COCO files carry many); segmentations are
/// not read (bbox evaluation only).
/// </summary>
internal static class CocoJsonReader
{
    public static CocoDataset ReadDataset(string path) => ParseDataset(ReadBytes(path), path);

    public static CocoDataset ParseDataset(byte[] utf8, string source)
    {
        using var doc = ParseDocument(utf8, source);
        var f = new JsonFields(source);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
            throw f.Error("", $"expected a COCO json object with images, annotations and categories, got {JsonFields.Describe(root)}");

        var root0 = JsonItem.Root;
        var current = root0;
        try
        {
            var imagesJson = f.RequiredArray(root, "images"u8, root0);
            var images = new List<CocoImage>(imagesJson.GetArrayLength());
            int i = 0;
            foreach (var e in imagesJson.EnumerateArray())
            {
                var at = current = new JsonItem("images", i++);
                images.Add(new CocoImage(f.Id(e, "id"u8, at), f.Int(e, "width"u8, at), f.Int(e, "height"u8, at), f.String(e, "file_name"u8, at)));
            }

            current = root0;
            var categoriesJson = f.RequiredArray(root, "categories"u8, root0);
            var categories = new List<CocoCategory>(categoriesJson.GetArrayLength());
            i = 0;
            foreach (var e in categoriesJson.EnumerateArray())
            {
                var at = current = new JsonItem("categories", i++);
                long id = f.Id(e, "id"u8, at);
                string name = f.String(e, "name"u8, at);
                string? super = JsonFields.Optional(e, "supercategory"u8) is { ValueKind: JsonValueKind.String } s ? s.GetString() : null;
                categories.Add(new CocoCategory(id, name, super));
            }

            current = root0;
            var annotationsJson = f.RequiredArray(root, "annotations"u8, root0);
            var annotations = new List<CocoAnnotation>(annotationsJson.GetArrayLength());
            i = 0;
            foreach (var e in annotationsJson.EnumerateArray())
            {
                var at = current = new JsonItem("annotations", i++);
                long id = f.Id(e, "id"u8, at);
                long imageId = f.Id(e, "image_id"u8, at);
                long categoryId = f.Id(e, "category_id"u8, at);
                var box = f.Box(e, "bbox"u8, at);
                // 'area' is required: COCO evaluation's area ranges read it, and a silent default would change results.
                double area = f.Number(e, "area"u8, at);
                // 'iscrowd' may be absent; pycocotools' ignore rule reads an absent one as 0.
                bool crowd = JsonFields.Optional(e, "iscrowd"u8) is { } c && f.Flag(c, "iscrowd"u8, at);
                annotations.Add(new CocoAnnotation(id, imageId, categoryId, box, area, crowd));
            }

            current = root0;
            string? info = root.TryGetProperty("info", out var infoJson) && infoJson.ValueKind == JsonValueKind.Object
                ? infoJson.GetRawText() : null;
            return new CocoDataset(images, annotations, categories, source, info);
        }
        catch (InvalidOperationException ex)
        {
            // System.Text.Json unescapes strings (property names included) lazily: "\ud800" alone fails only then.
            throw f.Error(current.Path, $"a string is not valid text ({ex.Message.TrimEnd('.')})");
        }
    }

    /// <summary>
    /// Reads a results file streaming: one list element at a time is parsed (a small <see cref="JsonDocument"/> of
    /// ~100 bytes), checked and turned into a <see cref="CocoResult"/>, so the peak memory is the results themselves
    /// (≈ 80 bytes each, about the size of their json) plus a 64 KiB window, not the file plus a DOM of it (issue 19
    /// measured 4× the file size with the DOM). Errors are the same as <see cref="ParseResults"/>'s: file, then
    /// <c>[i].field</c> or <c>line L, byte B</c>, then the problem.
    /// </summary>
    public static List<CocoResult> ReadResults(string path, CocoDataset groundTruth)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new CocoFormatException(path, "", "file not found", ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CocoFormatException(path, "", $"cannot read the file: {ex.Message}", ex);
        }
        using (stream)
        {
            try
            {
                return ReadResults(stream, path, groundTruth);
            }
            catch (IOException ex)
            {
                throw new CocoFormatException(path, "", $"cannot read the file: {ex.Message}", ex);
            }
        }
    }

    public static List<CocoResult> ParseResults(byte[] utf8, string source, CocoDataset groundTruth) =>
        ReadResults(new MemoryStream(utf8, writable: false), source, groundTruth);

    /// <summary>
    /// The streaming results reader. The buffer holds the unread tail of the stream; before each list element the
    /// reader's position and state are remembered, and when the element does not fit the buffer yet
    /// (<see cref="JsonDocument.TryParseValue"/> says so without consuming anything) the buffer is refilled — grown if
    /// one element is longer than all of it — and reading resumes from the remembered point.
    /// </summary>
    internal static List<CocoResult> ReadResults(Stream stream, string source, CocoDataset groundTruth)
    {
        var f = new JsonFields(source);
        var results = new List<CocoResult>();
        byte[] buffer = new byte[1 << 16];
        int length = 0;
        bool final = false, started = false, ended = false, first = true;
        var state = new JsonReaderState(new JsonReaderOptions { MaxDepth = 256 });
        int index = 0;
        try
        {
            while (true)
            {
                if (!final)
                {
                    int read = stream.Read(buffer, length, buffer.Length - length);
                    length += read;
                    final = read == 0;
                    if (first && length >= 3 && buffer[0] == 0xEF && buffer[1] == 0xBB && buffer[2] == 0xBF)
                    {
                        Buffer.BlockCopy(buffer, 3, buffer, 0, length - 3);
                        length -= 3;
                    }
                    first = false;
                    if (!final && length < buffer.Length) continue; // fill the window before parsing
                }
                int consumed = ReadWindow(buffer.AsSpan(0, length), final, ref state, ref started, ref ended, ref index, results, f, source, groundTruth);
                if (final)
                {
                    if (!ended) throw f.Error("", "the results list ends early (truncated file?)");
                    return results;
                }
                Buffer.BlockCopy(buffer, consumed, buffer, 0, length - consumed);
                length -= consumed;
                if (length == buffer.Length) Array.Resize(ref buffer, buffer.Length * 2); // one element larger than the window
            }
        }
        catch (JsonException ex)
        {
            throw MalformedJson(ex, source, stream);
        }
    }

    /// <summary>Reads as many whole list elements as <paramref name="window"/> holds; returns the bytes consumed.</summary>
    private static int ReadWindow(ReadOnlySpan<byte> window, bool final, ref JsonReaderState state, ref bool started, ref bool ended,
        ref int index, List<CocoResult> results, JsonFields f, string source, CocoDataset groundTruth)
    {
        var reader = new Utf8JsonReader(window, final, state);
        while (true)
        {
            var checkpointState = reader.CurrentState;
            int checkpoint = (int)reader.BytesConsumed;
            if (!reader.Read())
            {
                state = checkpointState;
                return checkpoint;
            }
            if (ended) continue; // only whitespace can follow; the reader itself refuses anything else
            if (!started)
            {
                if (reader.TokenType != JsonTokenType.StartArray)
                {
                    string got = reader.TokenType switch
                    {
                        JsonTokenType.StartObject => "an object",
                        JsonTokenType.String => "a string",
                        JsonTokenType.Number => "a number",
                        JsonTokenType.True => "true",
                        JsonTokenType.False => "false",
                        JsonTokenType.Null => "null",
                        _ => reader.TokenType.ToString(),
                    };
                    throw f.Error("", $"expected a COCO results list [{{image_id, category_id, bbox, score}}, ...], got {got}");
                }
                started = true;
                continue;
            }
            if (reader.TokenType == JsonTokenType.EndArray && reader.CurrentDepth == 0)
            {
                ended = true;
                continue;
            }
            if (!JsonDocument.TryParseValue(ref reader, out var doc))
            {
                state = checkpointState;
                return checkpoint;
            }
            using (doc)
            {
                var at = new JsonItem("", index);
                // System.Text.Json checks UTF-8 only when a string is transcoded, deep in some later call: check here.
                if (!System.Text.Unicode.Utf8.IsValid(window[checkpoint..(int)reader.BytesConsumed]))
                    throw f.Error(at.Path, "is not valid UTF-8 text");
                var e = doc.RootElement;
                CocoResult r;
                try
                {
                    r = new CocoResult(f.Id(e, "image_id"u8, at), f.Id(e, "category_id"u8, at), f.Box(e, "bbox"u8, at, result: true), f.Number(e, "score"u8, at));
                }
                catch (InvalidOperationException ex)
                {
                    // A lone surrogate escape ("\ud800") fails only when the string is unescaped, deep in a lookup.
                    throw f.Error(at.Path, $"a string is not valid text ({ex.Message.TrimEnd('.')})");
                }
                CocoResults.ValidateOne(r, index, groundTruth, source);
                results.Add(r);
                index++;
            }
        }
    }

    private static CocoFormatException MalformedJson(JsonException ex, string source, Stream stream)
    {
        long line = (ex.LineNumber ?? 0) + 1, column = (ex.BytePositionInLine ?? 0) + 1;
        string message = CleanMessage(ex.Message);
        if (stream.CanSeek && StartsWithNonFinite(stream, ex.LineNumber ?? 0, ex.BytePositionInLine ?? 0))
            message += NonFiniteHint;
        return new CocoFormatException(source, $"line {line}, byte {column}", $"malformed JSON: {message}", ex);
    }

    private const string NonFiniteHint = " (NaN and Infinity are not JSON; Python's json.dump writes them for non-finite floats)";

    private static string CleanMessage(string message)
    {
        int cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return (cut > 0 ? message[..cut] : message).ReplaceLineEndings(" ");
    }

    /// <summary>Whether the text at (line, byte) of a seekable stream starts with NaN or ±Infinity; only on the error path.</summary>
    private static bool StartsWithNonFinite(Stream stream, long line, long byteInLine)
    {
        try
        {
            stream.Seek(0, SeekOrigin.Begin);
            if (stream.ReadByte() == 0xEF && stream.ReadByte() == 0xBB && stream.ReadByte() == 0xBF) { }
            else stream.Seek(0, SeekOrigin.Begin);
            for (long l = 0; l < line;)
            {
                int b = stream.ReadByte();
                if (b < 0) return false;
                if (b == '\n') l++;
            }
            stream.Seek(byteInLine, SeekOrigin.Current);
            Span<byte> head = stackalloc byte[9];
            int n = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
            return IsNonFinite(head[..n]);
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static bool IsNonFinite(ReadOnlySpan<byte> text) =>
        text.StartsWith("NaN"u8) || text.StartsWith("Infinity"u8) || text.StartsWith("-Infinity"u8);

    internal static byte[] ReadBytes(string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new CocoFormatException(path, "", "file not found", ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CocoFormatException(path, "", $"cannot read the file: {ex.Message}", ex);
        }
    }

    private static JsonDocument ParseDocument(byte[] utf8, string source)
    {
        int start = utf8.Length >= 3 && utf8[0] == 0xEF && utf8[1] == 0xBB && utf8[2] == 0xBF ? 3 : 0;
        // System.Text.Json checks UTF-8 only when a string is transcoded (an InvalidOperationException deep in the walk).
        if (!System.Text.Unicode.Utf8.IsValid(utf8.AsSpan(start)))
        {
            var (line, column) = InvalidUtf8Position(utf8.AsSpan(start));
            throw new CocoFormatException(source, $"line {line}, byte {column}", "not valid UTF-8 text");
        }
        try
        {
            return JsonDocument.Parse(utf8.AsMemory(start), new JsonDocumentOptions { MaxDepth = 256 });
        }
        catch (JsonException ex)
        {
            long line = (ex.LineNumber ?? 0) + 1, column = (ex.BytePositionInLine ?? 0) + 1;
            string message = CleanMessage(ex.Message);
            if (StartsWithNonFinite(utf8, start, ex.LineNumber ?? 0, ex.BytePositionInLine ?? 0))
                message += NonFiniteHint;
            throw new CocoFormatException(source, $"line {line}, byte {column}", $"malformed JSON: {message}", ex);
        }
    }

    /// <summary>Line and byte (1-based) of the first invalid UTF-8 sequence; only on the error path.</summary>
    private static (long Line, long Column) InvalidUtf8Position(ReadOnlySpan<byte> utf8)
    {
        long line = 1, lineStart = 0;
        int pos = 0;
        while (pos < utf8.Length)
        {
            if (System.Text.Rune.DecodeFromUtf8(utf8[pos..], out _, out int used) != System.Buffers.OperationStatus.Done) break;
            if (utf8[pos] == (byte)'\n') { line++; lineStart = pos + 1; }
            pos += used;
        }
        return (line, pos - lineStart + 1);
    }

    private static bool StartsWithNonFinite(byte[] utf8, int start, long line, long byteInLine)
    {
        int pos = start;
        for (long l = 0; l < line && pos < utf8.Length; pos++)
            if (utf8[pos] == (byte)'\n') l++;
        long at = pos + byteInLine;
        if (at < 0 || at >= utf8.Length) return false;
        return IsNonFinite(utf8.AsSpan((int)at, (int)Math.Min(10, utf8.Length - at)));
    }
}
