namespace Nanoq.Autograd;

/// <summary>
/// Collects every node created by ops while it is current (per thread) and, on <see cref="Dispose"/>,
/// returns their values and gradients to <see cref="TensorPool"/>. One tape around a training step
/// (forward, backward, optimizer step) makes the next step reuse the same buffers, so steady-state training
/// allocates nothing large (DESIGN.md §2). Leaves (parameters, inputs) are never recorded or released.
/// Anything to keep past the step (a loss value, detections) must be copied out before disposing.
/// Tapes nest; the innermost is current.
/// </summary>
public sealed class Tape : IDisposable
{
    [ThreadStatic] private static Tape? _current;

    private readonly List<Var> _nodes = new();
    private readonly Tape? _outer;
    private bool _disposed;

    public Tape()
    {
        _outer = _current;
        _current = this;
    }

    public static Tape? Current => _current;

    public int Count => _nodes.Count;

    internal void Record(Var v) => _nodes.Add(v);

    /// <summary>Stops recording <paramref name="v"/> so that it survives this tape (e.g. a result to keep).</summary>
    public void Keep(Var v) => _nodes.Remove(v);

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var v in _nodes) v.Release();
        _nodes.Clear();
        _current = _outer;
    }
}
