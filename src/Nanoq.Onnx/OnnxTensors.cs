using Google.Protobuf;
using Nanoq.Onnx.Proto;

namespace Nanoq.Onnx;

/// <summary>
/// <c>TensorProto</c> ↔ <see cref="Tensor"/> for float32 data (ONNX's <c>raw_data</c>, little-endian, or
/// <c>float_data</c>), and int64 tensors (shapes, axes) as arrays. External data (<c>data_location = EXTERNAL</c>) is
/// not read: the error says so.
/// </summary>
public static class OnnxTensors
{
    /// <summary>A float32 tensor (an initializer or a Constant's value) as a Nanoq tensor, a copy with the same dims.</summary>
    public static Tensor ToTensor(TensorProto t)
    {
        if (t.DataLocation == TensorProto.Types.DataLocation.External)
            throw new OnnxImportException($"initializer '{t.Name}': external data is not supported (save the model with its weights inside).");
        if (t.DataType != (int)TensorProto.Types.DataType.Float)
            throw new OnnxImportException($"initializer '{t.Name}': data type {(TensorProto.Types.DataType)t.DataType} is not supported as a float tensor (only FLOAT).");
        int[] dims = Dims(t);
        int size = dims.Aggregate(1, (a, d) => checked(a * d));
        var data = new float[size];
        if (!t.RawData.IsEmpty)
        {
            if (t.RawData.Length != size * 4)
                throw new OnnxImportException($"initializer '{t.Name}': raw_data has {t.RawData.Length} bytes, dims [{string.Join(", ", dims)}] need {size * 4}.");
            System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(t.RawData.Span).CopyTo(data);
            if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX raw_data is little-endian.");
        }
        else
        {
            if (t.FloatData.Count != size)
                throw new OnnxImportException($"initializer '{t.Name}': float_data has {t.FloatData.Count} values, dims [{string.Join(", ", dims)}] need {size}.");
            t.FloatData.CopyTo(data, 0);
        }
        return Tensor.FromArray(data, dims);
    }

    /// <summary>An INT64 (or INT32) tensor's values, e.g. Reshape's shape or Resize's sizes.</summary>
    public static long[] ToInt64(TensorProto t)
    {
        int size = Dims(t).Aggregate(1, (a, d) => checked(a * d));
        switch ((TensorProto.Types.DataType)t.DataType)
        {
            case TensorProto.Types.DataType.Int64:
                if (!t.RawData.IsEmpty) return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(t.RawData.Span).ToArray();
                return t.Int64Data.ToArray();
            case TensorProto.Types.DataType.Int32:
                if (!t.RawData.IsEmpty) return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(t.RawData.Span).ToArray().Select(v => (long)v).ToArray();
                return t.Int32Data.Select(v => (long)v).ToArray();
            case TensorProto.Types.DataType.Float:
                return ToTensor(t).ToArray().Select(v => (long)v).ToArray();
            default:
                throw new OnnxImportException($"tensor '{t.Name}': data type {(TensorProto.Types.DataType)t.DataType} is not an integer type.");
        }
    }

    /// <summary>A float32 tensor as a TensorProto with raw_data (for building graphs in tests and for export).</summary>
    public static TensorProto FromTensor(string name, Tensor x) => FromFloats(name, x.ToArray(), x.Shape.ToArray());

    public static TensorProto FromFloats(string name, float[] data, params int[] dims)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        t.Dims.AddRange(dims.Select(d => (long)d));
        var bytes = new byte[data.Length * 4];
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.AsSpan()).CopyTo(bytes);
        t.RawData = ByteString.CopyFrom(bytes);
        return t;
    }

    public static TensorProto FromInt64(string name, long[] data, params int[] dims)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        t.Dims.AddRange(dims.Select(d => (long)d));
        t.Int64Data.AddRange(data);
        return t;
    }

    private static int[] Dims(TensorProto t) => t.Dims.Select(d => d is < 0 or > int.MaxValue
        ? throw new OnnxImportException($"tensor '{t.Name}': dimension {d} is out of range.")
        : (int)d).ToArray();
}
