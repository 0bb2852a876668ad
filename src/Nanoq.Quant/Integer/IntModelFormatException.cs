namespace Nanoq.Quant.Integer;

/// <summary>A damaged, truncated or foreign NQIM file; the message names the file and the problem.</summary>
public sealed class IntModelFormatException : IOException
{
    public IntModelFormatException(string file, string problem, Exception? inner = null)
        : base($"NQIM file '{file}': {problem}", inner)
    {
        File = file;
        Problem = problem;
    }

    /// <summary>The path (or stream name) that failed to load.</summary>
    public string File { get; }

    /// <summary>What is wrong with it.</summary>
    public string Problem { get; }
}
