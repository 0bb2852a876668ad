using System.Text.Json;

namespace Nanoq.Quant.Integer;

/// <summary>
/// An integer model as stored in an NQIM file (<see cref="IntModelFile"/>): named integer tensors (weight codes, bias,
/// M0, shift, zero points, clamp bounds), a layer graph as free-form JSON (which op reads which tensors and
/// activations, op attributes — and, for people and for the converter, the real scales Δ as metadata; the runtime uses
/// only the integers), and string metadata. Generic on purpose: a detector is described by its converter, not by this
/// container.
/// </summary>
public sealed class IntModel
{
    private readonly Dictionary<string, IntTensor> _byName;

    /// <param name="tensors">Unique names.</param>
    /// <param name="graphJson">One JSON value (object or array); "{}" when there is none.</param>
    /// <param name="metadata">Free string pairs (producer, source checkpoint, bit widths…); may be null.</param>
    public IntModel(IEnumerable<IntTensor> tensors, string graphJson = "{}", IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = tensors.ToList();
        _byName = new Dictionary<string, IntTensor>(StringComparer.Ordinal);
        foreach (var t in list)
            if (!_byName.TryAdd(t.Name, t))
                throw new ArgumentException($"IntModel: two tensors are named '{t.Name}'.");
        try
        {
            using var doc = JsonDocument.Parse(graphJson);
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"IntModel: the graph is not valid JSON: {e.Message}", nameof(graphJson), e);
        }
        Tensors = list;
        GraphJson = graphJson;
        Metadata = metadata is null ? new Dictionary<string, string>() : new Dictionary<string, string>(metadata);
    }

    public IReadOnlyList<IntTensor> Tensors { get; }

    /// <summary>The layer graph, JSON text exactly as written.</summary>
    public string GraphJson { get; }

    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The tensor named <paramref name="name"/>; throws <see cref="KeyNotFoundException"/> naming it.</summary>
    public IntTensor this[string name] =>
        _byName.TryGetValue(name, out var t) ? t : throw new KeyNotFoundException($"IntModel: no tensor named '{name}'.");

    public bool TryGet(string name, out IntTensor tensor) => _byName.TryGetValue(name, out tensor!);
}
