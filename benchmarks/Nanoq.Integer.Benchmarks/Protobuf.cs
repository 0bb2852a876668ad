using System.Text;

namespace Nanoq.Integer.Benchmarks;

/// <summary>
/// A minimal protocol-buffers writer (wire types 0 = varint and 2 = length-delimited are all an ONNX model needs), so
/// the benchmark can build its ONNX graph in code without the onnx Python package.
/// </summary>
internal sealed class Protobuf
{
    private readonly MemoryStream _s = new();

    public byte[] ToArray() => _s.ToArray();

    private void Varint(ulong v)
    {
        while (v >= 0x80)
        {
            _s.WriteByte((byte)(v | 0x80));
            v >>= 7;
        }
        _s.WriteByte((byte)v);
    }

    private void Key(int field, int wireType) => Varint((ulong)((field << 3) | wireType));

    public Protobuf Int(int field, long value)
    {
        Key(field, 0);
        Varint((ulong)value);
        return this;
    }

    public Protobuf Bytes(int field, ReadOnlySpan<byte> value)
    {
        Key(field, 2);
        Varint((ulong)value.Length);
        _s.Write(value);
        return this;
    }

    public Protobuf String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    public Protobuf Message(int field, Protobuf message) => Bytes(field, message.ToArray());
}
