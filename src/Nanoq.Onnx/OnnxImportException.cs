namespace Nanoq.Onnx;

/// <summary>
/// An ONNX graph Nanoq cannot map onto its modules: the message names the first offending node (name and op type) and,
/// where one is to blame, the attribute or input — e.g. <c>node 'conv3' (Conv): attribute auto_pad=SAME_UPPER is not
/// supported (only NOTSET)</c>.
/// </summary>
public sealed class OnnxImportException : Exception
{
    public OnnxImportException(string message) : base(message) { }

    public OnnxImportException(string message, Exception inner) : base(message, inner) { }

    /// <summary>The node's name ("" if unnamed), null for graph-level errors.</summary>
    public string? NodeName { get; init; }

    /// <summary>The node's op type, null for graph-level errors.</summary>
    public string? OpType { get; init; }

    /// <summary>The attribute to blame, if any.</summary>
    public string? Attribute { get; init; }
}
