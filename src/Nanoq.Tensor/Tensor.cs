using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace Nanoq;

/// <summary>
/// A dense float32 tensor: a <see cref="Nanoq.Shape"/> over a contiguous row-major run of a buffer
/// (<see cref="Buffer"/>[<see cref="Offset"/> .. <see cref="Offset"/> + <see cref="Size"/>)).
///
/// Views (<see cref="Reshape"/>, <see cref="Slice"/>, <see cref="At"/>) share the buffer; every other operation
/// copies. Tensors made by <see cref="Empty(int[])"/>/<see cref="Zeros(int[])"/> draw their buffer from
/// <see cref="TensorPool"/> and give it back on <see cref="Dispose"/>; a view never owns its buffer, and must not be
/// used after its owner is disposed (the same rule as <see cref="System.Buffers.ArrayPool{T}"/>).
/// Not disposing a tensor is safe: the GC reclaims it, it just is not recycled.
/// </summary>
public sealed class Tensor : IDisposable
{
    private float[] _buffer;
    private bool _ownsBuffer;

    private Tensor(float[] buffer, int offset, Shape shape, bool ownsBuffer)
    {
        if (offset < 0 || offset + (long)shape.Size > buffer.Length)
            throw new ArgumentException($"Shape {shape} at offset {offset} does not fit a buffer of {buffer.Length} floats.");
        _buffer = buffer;
        Offset = offset;
        Shape = shape;
        _ownsBuffer = ownsBuffer;
    }

    public Shape Shape { get; }
    public int Rank => Shape.Rank;
    public int Size => Shape.Size;

    /// <summary>The backing array; elements live at [Offset, Offset + Size).</summary>
    public float[] Buffer => _buffer;
    public int Offset { get; }

    /// <summary>Whether this tensor returns its buffer to the pool on <see cref="Dispose"/>.</summary>
    public bool OwnsBuffer => _ownsBuffer;

    public Span<float> Span
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => new(_buffer, Offset, Shape.Size);
    }

    public int Dim(int axis) => Shape[axis];

    // ---- construction -------------------------------------------------------------------------------------

    /// <summary>A pooled tensor with unspecified contents.</summary>
    public static Tensor Empty(params int[] dims) => Empty(new Shape(dims));

    public static Tensor Empty(Shape shape) => new(TensorPool.Rent(shape.Size), 0, shape, ownsBuffer: true);

    public static Tensor Zeros(params int[] dims) => Zeros(new Shape(dims));

    public static Tensor Zeros(Shape shape)
    {
        var t = Empty(shape);
        t.Span.Clear();
        return t;
    }

    public static Tensor Full(Shape shape, float value)
    {
        var t = Empty(shape);
        t.Span.Fill(value);
        return t;
    }

    public static Tensor Ones(params int[] dims) => Full(new Shape(dims), 1f);

    public static Tensor Scalar(float value) => FromArray([value]);

    /// <summary>Wraps <paramref name="data"/> without copying; the tensor does not own it.</summary>
    public static Tensor FromArray(float[] data, params int[] dims)
    {
        var shape = dims.Length == 0 && data.Length != 1 ? new Shape(data.Length) : new Shape(dims);
        if (shape.Size != data.Length)
            throw new ArgumentException($"Shape {shape} needs {shape.Size} elements but the array has {data.Length}.");
        return new Tensor(data, 0, shape, ownsBuffer: false);
    }

    /// <summary>Wraps a run of an existing buffer without copying.</summary>
    public static Tensor Wrap(float[] buffer, int offset, Shape shape) => new(buffer, offset, shape, ownsBuffer: false);

    /// <summary>A pooled copy of the values, in the same shape.</summary>
    public Tensor Clone()
    {
        var t = Empty(Shape);
        Span.CopyTo(t.Span);
        return t;
    }

    public float[] ToArray() => Span.ToArray();

    public void CopyFrom(Tensor source)
    {
        ShapeCheck.SameSize(this, source, nameof(CopyFrom));
        source.Span.CopyTo(Span);
    }

    public void Fill(float value) => Span.Fill(value);

    public void Clear() => Span.Clear();

    // ---- views --------------------------------------------------------------------------------------------

    /// <summary>
    /// A view with new dimensions over the same elements. One dimension may be −1 and is then inferred.
    /// </summary>
    public Tensor Reshape(params int[] dims)
    {
        int infer = -1;
        long known = 1;
        for (int i = 0; i < dims.Length; i++)
        {
            if (dims[i] == -1)
            {
                if (infer >= 0) throw new ArgumentException($"Reshape of {Shape} to [{string.Join(", ", dims)}]: at most one dimension may be -1.");
                infer = i;
            }
            else known *= dims[i];
        }
        if (infer >= 0)
        {
            if (known == 0 || Size % known != 0)
                throw new ArgumentException($"Cannot reshape {Shape} ({Size} elements) to [{string.Join(", ", dims)}].");
            dims = (int[])dims.Clone();
            dims[infer] = (int)(Size / known);
        }
        var shape = new Shape(dims);
        if (shape.Size != Size)
            throw new ArgumentException($"Cannot reshape {Shape} ({Size} elements) to {shape} ({shape.Size} elements).");
        return new Tensor(_buffer, Offset, shape, ownsBuffer: false);
    }

    /// <summary>A view of rows [start, start + length) along the first axis.</summary>
    public Tensor Slice(int start, int length)
    {
        if (Rank == 0) throw new InvalidOperationException("Cannot slice a scalar tensor.");
        int n = Shape[0];
        if (start < 0 || length < 0 || start + length > n)
            throw new ArgumentOutOfRangeException(nameof(start), $"Slice [{start}, {start + length}) is outside the first axis of {Shape}.");
        int row = Shape.Stride(0);
        return new Tensor(_buffer, Offset + start * row, Shape.With(0, length), ownsBuffer: false);
    }

    /// <summary>A view of item <paramref name="index"/> along the first axis (rank drops by one).</summary>
    public Tensor At(int index)
    {
        if (Rank == 0) throw new InvalidOperationException("Cannot index a scalar tensor.");
        if ((uint)index >= (uint)Shape[0])
            throw new ArgumentOutOfRangeException(nameof(index), $"Index {index} is outside the first axis of {Shape}.");
        var dims = Shape.Dims[1..].ToArray();
        int row = Shape.Stride(0);
        return new Tensor(_buffer, Offset + index * row, new Shape(dims), ownsBuffer: false);
    }

    // ---- element access (for tests and glue code, not for hot loops) --------------------------------------

    public float this[params int[] index]
    {
        get => _buffer[Offset + FlatIndex(index)];
        set => _buffer[Offset + FlatIndex(index)] = value;
    }

    /// <summary>The single value of a one-element tensor.</summary>
    public float ToScalar()
    {
        if (Size != 1) throw new InvalidOperationException($"ToScalar() needs a one-element tensor, not {Shape}.");
        return _buffer[Offset];
    }

    private int FlatIndex(int[] index)
    {
        if (index.Length != Rank)
            throw new ArgumentException($"Index of rank {index.Length} for a tensor of shape {Shape}.");
        int flat = 0;
        for (int i = 0; i < index.Length; i++)
        {
            int d = Shape[i];
            if ((uint)index[i] >= (uint)d)
                throw new IndexOutOfRangeException($"Index {index[i]} on axis {i} is outside shape {Shape}.");
            flat = flat * d + index[i];
        }
        return flat;
    }

    // ---- lifetime -----------------------------------------------------------------------------------------

    /// <summary>Returns a pooled buffer to <see cref="TensorPool"/>. Idempotent; a no-op for views and wrapped arrays.</summary>
    public void Dispose()
    {
        if (_ownsBuffer)
        {
            _ownsBuffer = false;
            var b = _buffer;
            _buffer = [];
            TensorPool.Return(b);
        }
    }

    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append("Tensor").Append(Shape.ToString()).Append(' ');
        var s = Span;
        int n = Math.Min(s.Length, 8);
        sb.Append('{');
        for (int i = 0; i < n; i++)
        {
            if (i > 0) sb.Append(", ");
            sb.Append(s[i].ToString("G6", CultureInfo.InvariantCulture));
        }
        if (s.Length > n) sb.Append(", …");
        sb.Append('}');
        return sb.ToString();
    }
}
