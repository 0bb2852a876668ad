using System.Runtime.InteropServices;

namespace Nanoq.Integer.Benchmarks;

/// <summary>
/// Builds, as ONNX protobuf bytes, a one-node model: y = QLinearConv(x u8, x_scale, x_zp, w s8 [per-channel scales, zero
/// points 0], w_scale, w_zp, y_scale, y_zp, bias i32) — ONNX Runtime's int8 convolution (opset 13, IR 8). Field numbers
/// are onnx.proto's (ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto, TypeProto).
/// </summary>
internal static class OnnxQLinearConvModel
{
    private const int Float = 1, UInt8 = 2, Int8 = 3, Int32 = 6;

    public static byte[] Build(int n, int cin, int h, int w, int cout, int k, int pad, int outH, int outW,
        sbyte[] weights, float[] weightScales, int[] bias, float xScale, byte xZero, float yScale, byte yZero)
    {
        var node = new Protobuf()
            .String(1, "x").String(1, "x_scale").String(1, "x_zero_point")
            .String(1, "w").String(1, "w_scale").String(1, "w_zero_point")
            .String(1, "y_scale").String(1, "y_zero_point").String(1, "B")
            .String(2, "y").String(3, "conv").String(4, "QLinearConv")
            .Message(5, Ints("kernel_shape", k, k))
            .Message(5, Ints("pads", pad, pad, pad, pad))
            .Message(5, Ints("strides", 1, 1))
            .Message(5, Ints("dilations", 1, 1))
            .Message(5, new Protobuf().String(1, "group").Int(20, 2).Int(3, 1));

        var graph = new Protobuf()
            .Message(1, node)
            .String(2, "qlinearconv")
            .Message(5, Tensor("x_scale", Float, [], MemoryMarshal.AsBytes<float>([xScale])))
            .Message(5, Tensor("x_zero_point", UInt8, [], [xZero]))
            .Message(5, Tensor("w", Int8, [cout, cin, k, k], MemoryMarshal.AsBytes<sbyte>(weights)))
            .Message(5, Tensor("w_scale", Float, [cout], MemoryMarshal.AsBytes<float>(weightScales)))
            .Message(5, Tensor("w_zero_point", Int8, [cout], new byte[cout]))
            .Message(5, Tensor("y_scale", Float, [], MemoryMarshal.AsBytes<float>([yScale])))
            .Message(5, Tensor("y_zero_point", UInt8, [], [yZero]))
            .Message(5, Tensor("B", Int32, [cout], MemoryMarshal.AsBytes<int>(bias)))
            .Message(11, Value("x", UInt8, n, cin, h, w))
            .Message(12, Value("y", UInt8, n, cout, outH, outW));

        return new Protobuf()
            .Int(1, 8)                                               // ir_version
            .String(2, "nanoq-benchmarks")                           // producer_name
            .Message(7, graph)
            .Message(8, new Protobuf().String(1, "").Int(2, 13))     // opset_import: ai.onnx 13
            .ToArray();
    }

    private static Protobuf Ints(string name, params long[] values)
    {
        var a = new Protobuf().String(1, name).Int(20, 7);            // type = INTS
        foreach (long v in values) a.Int(8, v);
        return a;
    }

    private static Protobuf Tensor(string name, int dataType, long[] dims, ReadOnlySpan<byte> raw)
    {
        var t = new Protobuf();
        foreach (long d in dims) t.Int(1, d);
        return t.Int(2, dataType).String(8, name).Bytes(9, raw);
    }

    private static Protobuf Value(string name, int elemType, params long[] dims)
    {
        var shape = new Protobuf();
        foreach (long d in dims) shape.Message(1, new Protobuf().Int(1, d));
        var tensorType = new Protobuf().Int(1, elemType).Message(2, shape);
        return new Protobuf().String(1, name).Message(2, new Protobuf().Message(1, tensorType));
    }
}
