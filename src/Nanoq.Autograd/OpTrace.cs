namespace Nanoq.Autograd;

/// <summary>
/// Records the ops of one forward pass for conversion to another runtime (the integer program): while a recorder is
/// installed (<see cref="Record"/>), the ops that carry a tensor between network layers without changing its values —
/// max pooling, nearest upsampling, ReLU, concatenation, flattening — and every layer a model routes through a tap
/// report themselves with their input and output nodes, in execution order. A tap runs its own computation
/// (folding, fake quantization, the conv) inside <see cref="Hidden"/>, so only the tap itself is recorded.
/// Per thread; nothing is recorded (and nothing costs more than a null check) when no recorder is installed.
/// </summary>
public static class OpTrace
{
    [ThreadStatic] private static IOpRecorder? _current;
    [ThreadStatic] private static int _hidden;

    /// <summary>The recorder that should hear about the op being run now, or null.</summary>
    public static IOpRecorder? Current => _hidden == 0 ? _current : null;

    /// <summary>Installs <paramref name="recorder"/> for this thread until the scope is disposed.</summary>
    public static IDisposable Record(IOpRecorder recorder)
    {
        if (_current is not null) throw new InvalidOperationException("OpTrace: a recorder is already installed on this thread.");
        _current = recorder;
        return new Scope(() => _current = null);
    }

    /// <summary>Ops run inside this scope are not recorded (a tap's own computation).</summary>
    public static IDisposable Hidden()
    {
        _hidden++;
        return new Scope(() => _hidden--);
    }

    /// <summary>Reports a value-preserving op to the current recorder, if any.</summary>
    public static void Op(string op, Var output, IReadOnlyList<Var> inputs, params int[] attributes) =>
        Current?.Op(op, inputs, output, attributes, null);

    private sealed class Scope(Action end) : IDisposable
    {
        private bool _done;

        public void Dispose()
        {
            if (_done) return;
            _done = true;
            end();
        }
    }
}

/// <summary>Hears the ops <see cref="OpTrace"/> reports.</summary>
public interface IOpRecorder
{
    /// <param name="op">"maxpool", "upsample", "relu", "relu6", "concat", "flatten", "slice", or "tap" for a network layer.</param>
    /// <param name="attributes">the op's integer attributes (kernel, stride, padding; the concat axis; the flatten start axis).</param>
    /// <param name="layer">for a tap, the tap object (its weights and quantizers); null otherwise.</param>
    void Op(string op, IReadOnlyList<Var> inputs, Var output, int[] attributes, object? layer);
}
