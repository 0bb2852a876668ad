using Nanoq.Nn;
using Nanoq.Quant.Quantizers;

namespace Nanoq.Quant;

/// <summary>
/// Every fake quantizer of a model, by name. Quantizers are modules installed at taps, so <see cref="Collect"/> is a
/// walk of the module tree: each quantizer's name is its module path (<c>backbone.layer1.0.conv1.weight_fake_quant</c>,
/// <c>fpn.topdown3.activation_post_process</c>, <c>input.activation_post_process</c>), the prefix of its state dict keys.
/// </summary>
public sealed class QuantRegistry
{
    private readonly List<FakeQuantizer> _quantizers = new();
    private readonly Dictionary<string, FakeQuantizer> _byName = new(StringComparer.Ordinal);

    private QuantRegistry() { }

    /// <summary>Finds, names and indexes the quantizers of <paramref name="root"/> and its descendants.</summary>
    public static QuantRegistry Collect(Module root)
    {
        var r = new QuantRegistry();
        foreach (var (path, m) in root.NamedModules())
        {
            if (m is not FakeQuantizer q) continue;
            if (r._quantizers.Any(x => ReferenceEquals(x, q)))
                throw new InvalidOperationException($"QuantRegistry: quantizer '{path}' is reachable twice (shared between taps as '{q.Name}').");
            if (!r._byName.TryAdd(path, q)) throw new InvalidOperationException($"QuantRegistry: two quantizers are named '{path}'.");
            q.Name = path;
            r._quantizers.Add(q);
        }
        return r;
    }

    public IReadOnlyList<FakeQuantizer> Quantizers => _quantizers;

    public int Count => _quantizers.Count;

    public FakeQuantizer this[string name] =>
        _byName.TryGetValue(name, out var q) ? q : throw new KeyNotFoundException($"QuantRegistry: no quantizer named '{name}'.");

    public bool TryGet(string name, out FakeQuantizer? quantizer) => _byName.TryGetValue(name, out quantizer);

    /// <summary>The activation quantizers.</summary>
    public IEnumerable<FakeQuantizer> Activations => _quantizers.Where(q => q.Role == QuantizerRole.Activation);

    /// <summary>The weight quantizers.</summary>
    public IEnumerable<FakeQuantizer> Weights => _quantizers.Where(q => q.Role == QuantizerRole.Weight);

    /// <summary>A snapshot of every quantizer's grid, in model order.</summary>
    public IReadOnlyList<QuantizerInfo> Describe() => _quantizers.Select(q => q.Describe()).ToList();
}
