namespace Nanoq.Cli.Terminal;

/// <summary>
/// Turns the first Ctrl-C into a cancellation request, so a training loop can finish its step and write a checkpoint;
/// a second Ctrl-C ends the process at once.
/// </summary>
public sealed class Interrupt : IDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private readonly System.Runtime.InteropServices.PosixSignalRegistration? _term;
    private readonly string _what;

    /// <param name="what">What the program does on the first signal, for its message (default: a training loop's).</param>
    public Interrupt(string what = "finishing the current step and writing a checkpoint")
    {
        _what = what;
        Console.CancelKeyPress += OnCancel;
        // SIGTERM (a scheduler, `kill`, a container stop) is handled like Ctrl-C: finish the step, write a checkpoint.
        try
        {
            _term = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, ctx =>
            {
                if (_cts.IsCancellationRequested) return;
                ctx.Cancel = true;
                Console.Error.WriteLine();
                Console.Error.WriteLine($"terminate: {_what}");
                _cts.Cancel();
            });
        }
        catch (PlatformNotSupportedException)
        {
            _term = null;
        }
    }

    public CancellationToken Token => _cts.Token;

    private void OnCancel(object? sender, ConsoleCancelEventArgs e)
    {
        if (_cts.IsCancellationRequested) return; // second Ctrl-C: let the runtime end the process
        e.Cancel = true;
        Console.Error.WriteLine();
        Console.Error.WriteLine($"interrupt: {_what} (Ctrl-C again to abort)");
        _cts.Cancel();
    }

    public void Dispose()
    {
        Console.CancelKeyPress -= OnCancel;
        _term?.Dispose();
        _cts.Dispose();
    }
}
