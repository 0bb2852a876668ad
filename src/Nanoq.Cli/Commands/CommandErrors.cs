using Nanoq.Coco;
namespace Nanoq.Cli.Commands;

/// <summary>The sub-commands' shared error policy: exit 2 with one line on stderr for bad usage or input, 1 for I/O failures.</summary>
internal static class CommandErrors
{
    /// <summary>Exit codes: 0 ok, 1 I/O failure, 2 bad usage or input, 130 interrupted by Ctrl-C (the shell's 128 + SIGINT).</summary>
    public const int Ok = 0, Failure = 1, BadInput = 2, Interrupted = 130;

    public static int Run(string command, TextWriter stderr, Func<int> body)
    {
        try
        {
            return body();
        }
        catch (UsageException ex)
        {
            stderr.WriteLine($"nanoq {command}: {OneLine(ex.Message)} (see nanoq {command} --help)");
            return BadInput;
        }
        catch (OperationCanceledException ex)
        {
            stderr.WriteLine($"nanoq {command}: {OneLine(ex.Message)}");
            return Interrupted;
        }
        catch (Nn.StateDictException ex)
        {
            stderr.WriteLine($"nanoq {command}: {OneLine(ex.Message)}");
            return BadInput;
        }
        catch (Quant.Integer.IntModelFormatException ex)
        {
            // A damaged or foreign integer model file is bad input, like a damaged json (not an I/O failure).
            stderr.WriteLine($"nanoq {command}: {OneLine(ex.Message)}");
            return BadInput;
        }
        catch (Nn.Training.TrainingDivergedException ex)
        {
            stderr.WriteLine($"nanoq {command}: {OneLine(ex.Message)}");
            return Failure;
        }
        catch (CocoFormatException ex)
        {
            stderr.WriteLine($"nanoq {command}: {OneLine(ex.Message)}");
            return BadInput;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"nanoq {command}: {OneLine(ex.Message)}");
            return Failure;
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException)
        {
            // Invalid values that only the library can judge (a configuration), or a request it does not support
            // (e.g. converting a DoReFa/XNOR model to the integer runtime).
            stderr.WriteLine($"nanoq {command}: {OneLine(ex.Message)}");
            return BadInput;
        }
        catch (InvalidOperationException ex)
        {
            // A stage that cannot go on (a diverged loss, a calibration that saw no data): say so in one line.
            stderr.WriteLine($"nanoq {command}: {OneLine(ex.Message)}");
            return Failure;
        }
    }

    private static string OneLine(string s) => s.ReplaceLineEndings(" ");
}
