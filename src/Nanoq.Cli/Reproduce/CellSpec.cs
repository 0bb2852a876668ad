using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Nanoq.Cli.Reproduce;

/// <summary>
/// One unit of work of the reproduction plan, identified by its configuration: the id is a readable prefix and the first
/// 10 hex digits of SHA-256 over the canonical JSON of every field that changes the result. Two tables that need the same
/// experiment (Table 2's F+P+C 4-bit row, Table 1's ResNet-18 INT4, Table 4's γ = 0.999) name the same cell and it runs
/// once; a change to any field (steps, data, recipe) is a new id, so a stale result is never reused.
/// </summary>
public abstract record CellSpec
{
    /// <summary>"float", "quant" or "ranges": what runs the cell and what its result holds.</summary>
    public abstract string Kind { get; }

    /// <summary>A short human name for the plan, the progress line and the report.</summary>
    public abstract string Label { get; }

    /// <summary>The cells whose results (checkpoints) this one starts from.</summary>
    public abstract IEnumerable<CellSpec> DependsOn { get; }

    /// <summary>Every field that changes the result, as JSON (also what report.json shows as the cell's configuration).</summary>
    public abstract JsonObject Config();

    public string Id => _id ??= MakeId();

    private string? _id;

    private string MakeId()
    {
        string canonical = Config().ToJsonString();
        string hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)))[..10];
        var slug = new StringBuilder();
        foreach (char c in Label.ToLowerInvariant())
            slug.Append(char.IsAsciiLetterOrDigit(c) ? c : '-');
        string s = string.Join('-', slug.ToString().Split('-', StringSplitOptions.RemoveEmptyEntries));
        return $"{Kind}-{(s.Length > 40 ? s[..40] : s)}-{hash}";
    }

    protected static JsonNode? Node<T>(T value) => JsonSerializer.SerializeToNode(value);
}
