using Nanoq.Autograd;

namespace Nanoq.Detection;

/// <summary>The training losses of a batch by name (e.g. "classification", "box"), each normalized; <see cref="Total"/> is their sum.</summary>
public sealed class DetectorLosses(IReadOnlyList<(string Name, Var Value)> terms, int foreground)
{
    public IReadOnlyList<(string Name, Var Value)> Terms { get; } = terms.Count > 0 ? terms : throw new ArgumentException("DetectorLosses: no loss terms.");

    /// <summary>Foreground samples (anchors or RoIs) in the batch.</summary>
    public int Foreground { get; } = foreground;

    public Var Total { get; } = terms.Skip(1).Aggregate(terms[0].Value, (s, t) => Fn.Add(s, t.Value));

    public Var this[string name] =>
        Terms.FirstOrDefault(t => t.Name == name).Value ?? throw new KeyNotFoundException($"DetectorLosses: no term '{name}'.");
}
