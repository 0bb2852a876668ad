namespace Nanoq.Coco;

/// <summary>
/// Bad input in a COCO file (json or image): the message always names the file, the place in it
/// (a json path such as <c>annotations[17].bbox</c>, or a line and byte for malformed json) and what is wrong,
/// so a user can fix the file without a debugger.
/// </summary>
public sealed class CocoFormatException : Exception
{
    /// <summary>The file (or a name such as <c>&lt;memory&gt;</c> for in-memory data) that holds the bad input.</summary>
    public string FileName { get; }

    /// <summary>Where in the file: a json path (<c>annotations[17].bbox</c>), <c>line 3, byte 14</c>, or empty.</summary>
    public string Location { get; }

    /// <summary>What is wrong, without the file and location.</summary>
    public string Problem { get; }

    public CocoFormatException(string source, string location, string problem, Exception? inner = null)
        : base(Compose(source, location, problem), inner)
    {
        FileName = source;
        Location = location;
        Problem = problem;
    }

    // The message is one line whatever the input held: a file name, json key or string value with a newline or NUL in
    // it (a damaged file has them) is shown with the control characters escaped.
    private static string Compose(string source, string location, string problem) =>
        OneLine(location.Length == 0 ? $"{source}: {problem}" : $"{source}: {location}: {problem}");

    internal static string OneLine(string text)
    {
        if (!text.AsSpan().ContainsAnyInRange('\0', '\u001f') && !text.Contains('\u007f')) return text;
        var sb = new System.Text.StringBuilder(text.Length + 8);
        foreach (char c in text)
            sb.Append(c < 0x20 || c == 0x7F ? $"\\u{(int)c:x4}" : c.ToString());
        return sb.ToString();
    }
}
