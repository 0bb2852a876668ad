using Nanoq.Nn;

namespace Nanoq.Quant;

/// <summary>
/// Every quantizer of a model, by name. <see cref="Collect"/> walks the module tree (depth first, registration order),
/// names each quantizer path.localName, and refuses duplicates, so a name identifies one quantizer for inspection
/// (<see cref="Describe"/>) and for the later integer conversion.
/// </summary>
public sealed class QuantRegistry
{
    private readonly List<IQuantizer> _quantizers = new();
    private readonly Dictionary<string, IQuantizer> _byName = new(StringComparer.Ordinal);

    private QuantRegistry() { }

    /// <summary>Finds, names and indexes the quantizers of <paramref name="root"/> and its descendants.</summary>
    public static QuantRegistry Collect(Module root, string prefix = "")
    {
        var r = new QuantRegistry();
        var owners = root.NamedModules().Where(m => m.Module is IHasQuantizers).Select(m => (m.Name, (IHasQuantizers)m.Module))
                         .Concat(Taps.ModelQuantizer.Owners(root));
        foreach (var (path, owner) in owners)
        {
            string at = prefix + path;
            foreach (var (local, q) in owner.Quantizers)
            {
                string name = at.Length == 0 ? local : local.Length == 0 ? at : at + "." + local;
                if (!r._byName.TryAdd(name, q))
                    throw new InvalidOperationException($"QuantRegistry: two quantizers are named '{name}'.");
                if (r._quantizers.Any(x => ReferenceEquals(x, q)))
                    throw new InvalidOperationException($"QuantRegistry: quantizer '{name}' is reachable twice (shared between modules as '{q.Name}').");
                q.Name = name;
                r._quantizers.Add(q);
            }
        }
        return r;
    }

    public IReadOnlyList<IQuantizer> Quantizers => _quantizers;

    public int Count => _quantizers.Count;

    public IQuantizer this[string name] =>
        _byName.TryGetValue(name, out var q) ? q : throw new KeyNotFoundException($"QuantRegistry: no quantizer named '{name}'.");

    public bool TryGet(string name, out IQuantizer? quantizer) => _byName.TryGetValue(name, out quantizer);

    /// <summary>The activation quantizers (what calibration sets).</summary>
    public IEnumerable<Modules.ActQuantizer> Activations => _quantizers.OfType<Modules.ActQuantizer>();

    /// <summary>The weight quantizers.</summary>
    public IEnumerable<Modules.WeightQuantizer> Weights => _quantizers.OfType<Modules.WeightQuantizer>();

    /// <summary>A snapshot of every quantizer's parameters, in model order.</summary>
    public IReadOnlyList<QuantizerInfo> Describe() => _quantizers.Select(q => q.Describe()).ToList();
}
