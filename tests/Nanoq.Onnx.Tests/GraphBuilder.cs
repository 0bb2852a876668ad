using Nanoq.Onnx.Proto;

namespace Nanoq.Onnx.Tests;

/// <summary>Builds small ONNX models with the generated protobuf classes (no hand-written protobuf).</summary>
internal sealed class GraphBuilder
{
    private readonly Rng _rng;

    public GraphBuilder(string input, int[] dims, long opset = 13, ulong seed = 1)
    {
        _rng = new Rng(seed);
        Model = new ModelProto { IrVersion = 7, ProducerName = "nanoq-tests", Graph = new GraphProto { Name = "g" } };
        Model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        Model.Graph.Input.Add(ValueInfo(input, dims));
    }

    public ModelProto Model { get; }
    public GraphProto Graph => Model.Graph;

    public static ValueInfoProto ValueInfo(string name, int[]? dims = null)
    {
        var t = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float };
        if (dims is not null)
        {
            t.Shape = new TensorShapeProto();
            foreach (var d in dims) t.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        }
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = t } };
    }

    public string Init(string name, float[] data, params int[] dims)
    {
        Graph.Initializer.Add(OnnxTensors.FromFloats(name, data, dims));
        return name;
    }

    public string InitInt64(string name, long[] data)
    {
        Graph.Initializer.Add(OnnxTensors.FromInt64(name, data, data.Length));
        return name;
    }

    /// <summary>A random initializer, uniform in ±scale (positive in [lo, lo + scale] when lo is given).</summary>
    public string Random(string name, float scale, int[] dims, float? lo = null)
    {
        int size = dims.Aggregate(1, (a, b) => a * b);
        var d = new float[size];
        for (int i = 0; i < size; i++) d[i] = lo is float l ? l + scale * _rng.NextFloat() : _rng.Uniform(-scale, scale);
        return Init(name, d, dims);
    }

    public NodeProto Node(string op, string name, string[] inputs, string[] outputs, params AttributeProto[] attrs)
    {
        var n = new NodeProto { OpType = op, Name = name };
        n.Input.AddRange(inputs);
        n.Output.AddRange(outputs);
        n.Attribute.AddRange(attrs);
        Graph.Node.Add(n);
        return n;
    }

    public void Output(string name) => Graph.Output.Add(ValueInfo(name));

    public static AttributeProto Ints(string name, params long[] v)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(v);
        return a;
    }

    public static AttributeProto Int(string name, long v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = v };
    public static AttributeProto Float(string name, float v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = v };
    public static AttributeProto Str(string name, string v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = Google.Protobuf.ByteString.CopyFromUtf8(v) };
    public static AttributeProto TensorAttr(string name, TensorProto t) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Tensor, T = t };

    public float[] RandomInput(int size, float scale = 1f)
    {
        var d = new float[size];
        for (int i = 0; i < size; i++) d[i] = _rng.Uniform(-scale, scale);
        return d;
    }
}
