namespace Nanoq.Cli.Tests;

/// <summary>
/// The base of the command tests: the CLI in process, as a user runs it — arguments in; exit code, standard output and
/// standard error out.
/// </summary>
public abstract class CliTest
{
    protected static (int Code, string Out, string Err) Nanoq(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = CommandTable.Dispatch(args, o, e);
        return (code, o.ToString(), e.ToString());
    }
}
