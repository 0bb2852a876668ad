using Nanoq.Onnx.Proto;
using AttrType = Nanoq.Onnx.Proto.AttributeProto.Types.AttributeType;

namespace Nanoq.Onnx;

/// <summary>
/// One ONNX node being imported: typed attribute reads that remember which attributes were understood, so
/// <see cref="CheckAllRead"/> can name the first one that was not, and errors that name the node, its op type and
/// the attribute.
/// </summary>
internal sealed class OnnxNode(NodeProto proto, int index)
{
    private readonly HashSet<string> _read = new();

    public NodeProto Proto { get; } = proto;
    public int Index { get; } = index;
    public string Name => Proto.Name;
    public string OpType => Proto.OpType;
    public IReadOnlyList<string> Inputs => Proto.Input;
    public IReadOnlyList<string> Outputs => Proto.Output;

    /// <summary>The i-th input's value name, or null where it is absent or the empty string (an omitted optional input).</summary>
    public string? Input(int i) => i < Proto.Input.Count && Proto.Input[i].Length > 0 ? Proto.Input[i] : null;

    /// <summary>"node 'conv1' (Conv)"; an unnamed node is named by its first output.</summary>
    public string Label => Name.Length > 0 ? $"node '{Name}' ({OpType})" : $"unnamed node ({OpType}) producing '{Proto.Output.FirstOrDefault()}'";

    public OnnxImportException Error(string what, string? attribute = null) =>
        new($"{Label}: {what}") { NodeName = Name, OpType = OpType, Attribute = attribute };

    private AttributeProto? Find(string name, AttrType type)
    {
        var a = Proto.Attribute.FirstOrDefault(a => a.Name == name);
        if (a is null) return null;
        _read.Add(name);
        // Some exporters leave the type unset (ONNX before IR 3); accept when the field itself is filled.
        if (a.Type != type && a.Type != AttrType.Undefined)
            throw Error($"attribute {name} has type {a.Type}, expected {type}.", name);
        return a;
    }

    public long Int(string name, long fallback) => Find(name, AttrType.Int)?.I ?? fallback;

    public float Float(string name, float fallback) => Find(name, AttrType.Float)?.F ?? fallback;

    public string String(string name, string fallback) => Find(name, AttrType.String)?.S.ToStringUtf8() ?? fallback;

    public long[]? Ints(string name) => Find(name, AttrType.Ints)?.Ints.ToArray();

    public float[]? Floats(string name) => Find(name, AttrType.Floats)?.Floats.ToArray();

    /// <summary>Marks attributes as understood and harmless whatever their value (e.g. batch norm's momentum in inference).</summary>
    public void Ignore(params string[] names)
    {
        foreach (var n in names) _read.Add(n);
    }

    /// <summary>Throws naming the first attribute the op's mapping did not read: Nanoq would silently change its meaning.</summary>
    public void CheckAllRead()
    {
        foreach (var a in Proto.Attribute)
            if (!_read.Contains(a.Name))
                throw Error($"attribute {a.Name} is not supported.", a.Name);
    }
}
