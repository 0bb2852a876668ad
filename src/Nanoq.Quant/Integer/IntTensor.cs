using System.Runtime.InteropServices;

namespace Nanoq.Quant.Integer;

/// <summary>
/// A named integer tensor of an integer model: shape, element type and little-endian data. Codes (<see cref="IntDType.U8"/>)
/// carry their bit width k: every element lies on [0, 2^k − 1] (checked), and k ≤ 4 codes go to the file two per byte
/// (DESIGN.md §5: one per byte for compute, two per byte in model files). Immutable.
/// </summary>
public sealed class IntTensor
{
    private readonly byte[] _data;

    private IntTensor(string name, IntDType dtype, int[] shape, int bits, byte[] data)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        long count = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentException($"IntTensor '{name}': negative dimension in [{string.Join(", ", shape)}].");
            count *= d;
        }
        if (count * ElementSize(dtype) != data.Length)
            throw new ArgumentException($"IntTensor '{name}': shape [{string.Join(", ", shape)}] of {dtype} needs {count * ElementSize(dtype)} bytes, got {data.Length}.");
        if (dtype == IntDType.U8)
        {
            if (bits is < 1 or > 8) throw new ArgumentOutOfRangeException(nameof(bits), bits, $"IntTensor '{name}': codes take 1..8 bits.");
            int max = (1 << bits) - 1;
            for (int i = 0; i < data.Length; i++)
                if (data[i] > max)
                    throw new ArgumentOutOfRangeException(nameof(data), $"IntTensor '{name}': code {data[i]} at {i} is off the {bits}-bit grid [0, {max}].");
        }
        else bits = 8 * ElementSize(dtype);
        Name = name;
        DType = dtype;
        Shape = shape;
        Bits = bits;
        Count = count;
        _data = data;
    }

    public string Name { get; }
    public IntDType DType { get; }
    public IReadOnlyList<int> Shape { get; }

    /// <summary>k for codes; the element width in bits otherwise.</summary>
    public int Bits { get; }

    /// <summary>Number of elements.</summary>
    public long Count { get; }

    /// <summary>Whether the file stores this tensor two codes per byte.</summary>
    public bool IsPackedInFile => DType == IntDType.U8 && Bits <= 4;

    /// <summary>The raw little-endian bytes (one per code for U8).</summary>
    public ReadOnlySpan<byte> Bytes => _data;

    public ReadOnlySpan<byte> AsCodes() => DType == IntDType.U8 ? _data : throw WrongType(IntDType.U8);
    public ReadOnlySpan<sbyte> AsSByte() => DType == IntDType.S8 ? MemoryMarshal.Cast<byte, sbyte>(_data) : throw WrongType(IntDType.S8);
    public ReadOnlySpan<short> AsInt16() => DType == IntDType.I16 ? MemoryMarshal.Cast<byte, short>(_data) : throw WrongType(IntDType.I16);
    public ReadOnlySpan<int> AsInt32() => DType == IntDType.I32 ? MemoryMarshal.Cast<byte, int>(_data) : throw WrongType(IntDType.I32);

    private InvalidOperationException WrongType(IntDType wanted) =>
        new($"IntTensor '{Name}' holds {DType}, not {wanted}.");

    public static IntTensor Codes(string name, ReadOnlySpan<int> shape, ReadOnlySpan<byte> codes, int bits) =>
        new(name, IntDType.U8, shape.ToArray(), bits, codes.ToArray());

    public static IntTensor SByte(string name, ReadOnlySpan<int> shape, ReadOnlySpan<sbyte> values) =>
        new(name, IntDType.S8, shape.ToArray(), 8, MemoryMarshal.AsBytes(values).ToArray());

    public static IntTensor Int16(string name, ReadOnlySpan<int> shape, ReadOnlySpan<short> values) =>
        new(name, IntDType.I16, shape.ToArray(), 16, ToLittleEndian(MemoryMarshal.AsBytes(values)));

    public static IntTensor Int32(string name, ReadOnlySpan<int> shape, ReadOnlySpan<int> values) =>
        new(name, IntDType.I32, shape.ToArray(), 32, ToLittleEndian(MemoryMarshal.AsBytes(values)));

    /// <summary>
    /// Small-range per-channel constants (shifts in [−31, 30], weight zero points in [0, 2^k − 1]) in the narrowest type
    /// that holds every value — s8, then u8, i16, i32 — read back by <see cref="ToInt32"/> whatever was chosen. Saves
    /// three bytes a channel of each against int32 (the model file's share that is not weight codes).
    /// </summary>
    public static IntTensor Compact(string name, ReadOnlySpan<int> values)
    {
        int lo = 0, hi = 0;
        foreach (int v in values)
        {
            if (v < lo) lo = v;
            if (v > hi) hi = v;
        }
        if (lo >= sbyte.MinValue && hi <= sbyte.MaxValue)
        {
            var b = new sbyte[values.Length];
            for (int i = 0; i < b.Length; i++) b[i] = (sbyte)values[i];
            return SByte(name, [values.Length], b);
        }
        if (lo >= 0 && hi <= byte.MaxValue)
        {
            var b = new byte[values.Length];
            for (int i = 0; i < b.Length; i++) b[i] = (byte)values[i];
            return Codes(name, [values.Length], b, 8);
        }
        if (lo >= short.MinValue && hi <= short.MaxValue)
        {
            var s = new short[values.Length];
            for (int i = 0; i < s.Length; i++) s[i] = (short)values[i];
            return Int16(name, [values.Length], s);
        }
        return Int32(name, values);
    }

    /// <summary>The elements widened to int32, whatever the stored type (the reader of <see cref="Compact"/> tensors).</summary>
    public int[] ToInt32() => DType switch
    {
        IntDType.U8 => _data.Select(b => (int)b).ToArray(),
        IntDType.S8 => AsSByte().ToArray().Select(b => (int)b).ToArray(),
        IntDType.I16 => AsInt16().ToArray().Select(s => (int)s).ToArray(),
        _ => AsInt32().ToArray(),
    };

    /// <summary>A 1-D int32 tensor (the common case of per-channel constants).</summary>
    public static IntTensor Int32(string name, ReadOnlySpan<int> values) => Int32(name, [values.Length], values);

    /// <summary>From bytes already in this tensor's in-memory layout (the file reader's entry point).</summary>
    internal static IntTensor FromBytes(string name, IntDType dtype, int[] shape, int bits, byte[] data) =>
        new(name, dtype, shape, bits, data);

    internal static int ElementSize(IntDType dtype) => dtype switch
    {
        IntDType.U8 or IntDType.S8 => 1,
        IntDType.I16 => 2,
        IntDType.I32 => 4,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    private static byte[] ToLittleEndian(ReadOnlySpan<byte> bytes)
    {
        // .NET runs little-endian on every platform this project targets; fail loudly rather than write a wrong file.
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("NQIM tensors are little-endian.");
        return bytes.ToArray();
    }

    public override string ToString() => $"{Name}: {DType}{(DType == IntDType.U8 ? $"/{Bits}b" : "")} [{string.Join(", ", Shape)}]";
}
