using System.Diagnostics;
using System.Text;

namespace Nanoq.Testing;

/// <summary>
/// Seeded mutation fuzzing of file readers (issue 19), shared by the test projects (linked into each csproj): every
/// mutated input must either load or fail with the reader's documented exception type, naming the source in one line.
/// Anything else — another exception type, a message without the file, a hang — is a crash, reported with the
/// iteration that reproduces it (the input is a pure function of seed and iteration).
/// <para>
/// Mutations are AFL's "havoc" stacked 1–4 deep (bit flips, random and boundary bytes and words, deletions,
/// insertions, duplications, truncation, splices of another seed) plus, for text formats, JSON tokens and boundary
/// numbers. Formats guarded by checksums get a <c>fixup</c> that recomputes them for most inputs, or the fuzzer would
/// never get past the checksum to the parser behind it.
/// </para>
/// <para>
/// CI runs a few hundred inputs a reader (well under a minute in all); <c>NANOQ_FUZZ_ITERATIONS=10000</c> runs a long
/// campaign with the same tests, <c>NANOQ_FUZZ_REPORT=FILE</c> appends each reader's counts to FILE, and
/// <c>NANOQ_FUZZ_CRASH_DIR=DIR</c> saves every crashing input there.
/// </para>
/// </summary>
public static class Fuzz
{
    /// <summary>What one reader's campaign found.</summary>
    /// <summary>
    /// <paramref name="Wrapped"/> counts the clean rejections by the exception they wrap (a decoder's own exception turned
    /// into the documented type), which shows what the fuzzer reached behind the structural checks.
    /// </summary>
    public sealed record Report(string Reader, int Inputs, int Accepted, int Rejected, IReadOnlyList<string> Crashes, TimeSpan Elapsed,
        IReadOnlyDictionary<string, int> Wrapped)
    {
        public override string ToString() =>
            $"{Reader}: {Inputs} inputs, {Accepted} accepted, {Rejected} rejected cleanly, {Crashes.Count} crashes ({Elapsed.TotalSeconds:F1} s)"
            + (Wrapped.Count == 0 ? "" : "; wrapped: " + string.Join(", ", Wrapped.OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Key} {kv.Value}")));
    }

    /// <summary><c>NANOQ_FUZZ_ITERATIONS</c> if set, else <paramref name="ciDefault"/>.</summary>
    public static int Iterations(int ciDefault) =>
        int.TryParse(Environment.GetEnvironmentVariable("NANOQ_FUZZ_ITERATIONS"), out int n) && n > 0 ? n : ciDefault;

    /// <summary>
    /// Feeds <paramref name="iterations"/> mutants of <paramref name="seeds"/> to <paramref name="read"/>;
    /// <paramref name="isClean"/> says whether an exception is the documented, well-formed kind.
    /// </summary>
    public static Report Run(string reader, IReadOnlyList<byte[]> seeds, int iterations, int seed, bool text,
        Action<byte[]> read, Func<Exception, bool> isClean, Func<byte[], byte[]>? fixup = null, TimeSpan? perInput = null)
    {
        var limit = perInput ?? TimeSpan.FromSeconds(20);
        var crashes = new List<string>();
        int accepted = 0, rejected = 0;
        var wrapped = new Dictionary<string, int>();
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < iterations; i++)
        {
            var rng = new Random(unchecked(seed * 1_000_003 + i));
            var input = Mutate(seeds, rng, text);
            if (fixup is not null && rng.Next(4) != 0) input = fixup(input);
            Exception? error = null;
            var task = Task.Run(() => read(input));
            try
            {
                if (!task.Wait(limit))
                {
                    crashes.Add($"{reader} iteration {i} (seed {seed}): no answer within {limit.TotalSeconds} s (hang?)");
                    Save(reader, i, input);
                    break; // the runaway thread cannot be stopped; end the campaign here
                }
            }
            catch (AggregateException ae)
            {
                error = ae.InnerException;
            }
            if (error is null) accepted++;
            else if (isClean(error))
            {
                rejected++;
                if (error.InnerException is { } inner)
                    wrapped[inner.GetType().Name] = wrapped.GetValueOrDefault(inner.GetType().Name) + 1;
            }
            else
            {
                var frame = error.StackTrace?.Split('\n').FirstOrDefault()?.Trim() ?? "";
                crashes.Add($"{reader} iteration {i} (seed {seed}): {error.GetType().FullName}: {OneLine(error.Message)} {frame}");
                Save(reader, i, input);
            }
        }
        var report = new Report(reader, accepted + rejected + crashes.Count, accepted, rejected, crashes, clock.Elapsed, wrapped);
        if (Environment.GetEnvironmentVariable("NANOQ_FUZZ_REPORT") is { Length: > 0 } path)
            lock (ReportLock)
                File.AppendAllText(path, report + Environment.NewLine + string.Concat(crashes.Take(20).Select(c => "  " + c + Environment.NewLine)));
        return report;
    }

    private static readonly object ReportLock = new();

    private static string OneLine(string s)
    {
        var t = s.ReplaceLineEndings(" ");
        return t.Length > 300 ? t[..300] + "..." : t;
    }

    private static void Save(string reader, int iteration, byte[] input)
    {
        if (Environment.GetEnvironmentVariable("NANOQ_FUZZ_CRASH_DIR") is not { Length: > 0 } dir) return;
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, $"{reader}-{iteration}.bin"), input);
    }

    private static readonly byte[][] JsonTokens = [.. new[]
    {
        "{", "}", "[", "]", ",", ":", "\"", "-1", "0", "1", "-0", "2147483648", "9223372036854775808", "1e309", "-1e309",
        "1.5", "1e-400", "NaN", "Infinity", "null", "true", "false", "\"\"", "[]", "{}", "\\u0000", "\\n", "\\u001b", "\\ud800", "é", "../",
        "/etc/passwd", "\"image_id\"", "\"bbox\"", "\"score\"", "\"id\"", "\"file_name\"", "\"__metadata__\"", "\"dtype\"",
        "\"shape\"", "\"data_offsets\"", "\"F16\"", "\"I64\"", "\"u4\"", "\"bits\"", "[1e20, 1e20, 1e20, 1e20]",
    }.Select(Encoding.UTF8.GetBytes), [0xC3], [0xFF, 0xFE], [0xED, 0xA0, 0x80]];

    private static readonly long[] Boundary = [0, 1, -1, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, int.MaxValue, int.MinValue, uint.MaxValue, 8000, 65535, 1 << 20];

    /// <summary>One mutant: 1–4 stacked havoc operations on a random seed.</summary>
    public static byte[] Mutate(IReadOnlyList<byte[]> seeds, Random rng, bool text)
    {
        var b = new List<byte>(seeds[rng.Next(seeds.Count)]);
        int rounds = 1 + rng.Next(4);
        for (int r = 0; r < rounds; r++)
        {
            int ops = text ? 12 : 10;
            if (r > 0 && rng.Next(3) != 0) break; // mostly a single mutation, sometimes a stack (AFL's havoc)
            switch (rng.Next(ops))
            {
                case 0 when b.Count > 0: { int p = rng.Next(b.Count); b[p] ^= (byte)(1 << rng.Next(8)); break; }
                case 1 when b.Count > 0: { b[rng.Next(b.Count)] = (byte)rng.Next(256); break; }
                case 2 when b.Count > 0:
                {
                    long v = Boundary[rng.Next(Boundary.Length)];
                    int width = 1 << rng.Next(3), p = rng.Next(b.Count);
                    bool bigEndian = rng.Next(2) == 0;
                    for (int k = 0; k < width && p + k < b.Count; k++)
                        b[p + k] = (byte)(v >> (8 * (bigEndian ? width - 1 - k : k)));
                    break;
                }
                case 3 when b.Count > 1:
                {
                    int p = rng.Next(b.Count), n = 1 + rng.Next(Math.Min(b.Count - p, rng.Next(2) == 0 ? 16 : Math.Max(1, b.Count / 2)));
                    b.RemoveRange(p, Math.Min(n, b.Count - p));
                    break;
                }
                case 4:
                {
                    int p = rng.Next(b.Count + 1), n = 1 + rng.Next(16);
                    var bytes = new byte[n];
                    rng.NextBytes(bytes);
                    b.InsertRange(p, bytes);
                    break;
                }
                case 5 when b.Count > 1:
                {
                    int from = rng.Next(b.Count), n = 1 + rng.Next(Math.Min(64, b.Count - from)), to = rng.Next(b.Count + 1);
                    b.InsertRange(to, b.GetRange(from, n));
                    break;
                }
                case 6 when b.Count > 1: { int cut = rng.Next(b.Count); b.RemoveRange(cut, b.Count - cut); break; }
                case 7 when b.Count > 0:
                {
                    // Overwrite a run with one repeated byte (zeros and 0xFF are the usual damage).
                    int p = rng.Next(b.Count), n = 1 + rng.Next(Math.Min(32, b.Count - p));
                    byte v = rng.Next(3) switch { 0 => 0, 1 => 0xFF, _ => (byte)rng.Next(256) };
                    for (int k = 0; k < n; k++) b[p + k] = v;
                    break;
                }
                case 8 when seeds.Count > 1 && b.Count > 0:
                {
                    // Splice: our head, another seed's tail.
                    var other = seeds[rng.Next(seeds.Count)];
                    int cut = rng.Next(b.Count), from = rng.Next(other.Length);
                    b.RemoveRange(cut, b.Count - cut);
                    b.AddRange(other.AsSpan(from).ToArray());
                    break;
                }
                case 9 when b.Count > 2:
                {
                    // Swap two bytes far apart (reorders structure without changing the byte histogram).
                    int p = rng.Next(b.Count), q = rng.Next(b.Count);
                    (b[p], b[q]) = (b[q], b[p]);
                    break;
                }
                case 10: { var t = JsonTokens[rng.Next(JsonTokens.Length)]; b.InsertRange(rng.Next(b.Count + 1), t); break; }
                case 11 when b.Count > 0:
                {
                    // Replace a token-sized run (up to the next delimiter) with a JSON token.
                    int p = rng.Next(b.Count), end = p;
                    while (end < b.Count && end - p < 24 && b[end] is not ((byte)',' or (byte)'}' or (byte)']' or (byte)':')) end++;
                    b.RemoveRange(p, end - p);
                    b.InsertRange(p, JsonTokens[rng.Next(JsonTokens.Length)]);
                    break;
                }
                default: { if (b.Count > 0) b[rng.Next(b.Count)] ^= 0xFF; break; }
            }
        }
        return [.. b];
    }
}
