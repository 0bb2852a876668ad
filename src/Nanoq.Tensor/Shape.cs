using System.Runtime.CompilerServices;

namespace Nanoq;

/// <summary>
/// The dimensions of a dense, contiguous, row-major tensor: <c>[d0, d1, …, d(r−1)]</c>, the last axis
/// varying fastest. Strides are implied (<c>stride[i] = d(i+1) · … · d(r−1)</c>); a rank-0 shape is a scalar
/// of size 1. Immutable; equality is by dimensions.
/// </summary>
public readonly struct Shape : IEquatable<Shape>
{
    private readonly int[] _dims;

    public Shape(params int[] dims)
    {
        ArgumentNullException.ThrowIfNull(dims);
        long size = 1;
        for (int i = 0; i < dims.Length; i++)
        {
            if (dims[i] < 0)
                throw new ArgumentException($"Shape {Format(dims)}: dimension {i} is negative.", nameof(dims));
            size *= dims[i];
            if (size > int.MaxValue)
                throw new ArgumentException($"Shape {Format(dims)} has more than {int.MaxValue} elements.", nameof(dims));
        }
        _dims = (int[])dims.Clone();
        _size = (int)size;
    }

    private readonly int _size;

    /// <summary>Number of axes.</summary>
    public int Rank => _dims?.Length ?? 0;

    /// <summary>Number of elements (product of the dimensions; 1 for a scalar, including <c>default(Shape)</c>).</summary>
    public int Size => _dims is null ? 1 : _size;

    public int this[int axis] => _dims[Axis(axis)];

    /// <summary>A copy of the dimensions.</summary>
    public int[] ToArray() => _dims is null ? [] : (int[])_dims.Clone();

    public ReadOnlySpan<int> Dims => _dims;

    /// <summary>Row-major stride of <paramref name="axis"/> in elements.</summary>
    public int Stride(int axis)
    {
        axis = Axis(axis);
        int s = 1;
        for (int i = Rank - 1; i > axis; i--) s *= _dims[i];
        return s;
    }

    /// <summary>Normalizes a possibly negative axis (−1 is the last) and checks its range.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Axis(int axis)
    {
        int r = Rank;
        int a = axis < 0 ? axis + r : axis;
        if ((uint)a >= (uint)r)
            throw new ArgumentOutOfRangeException(nameof(axis), $"Axis {axis} is out of range for shape {this}.");
        return a;
    }

    /// <summary>Product of the dimensions in [start, end).</summary>
    public int SizeOf(int start, int end)
    {
        int s = 1;
        for (int i = start; i < end; i++) s *= _dims[i];
        return s;
    }

    /// <summary>The dimensions with <paramref name="axis"/> replaced by <paramref name="value"/>.</summary>
    public Shape With(int axis, int value)
    {
        var d = ToArray();
        d[Axis(axis)] = value;
        return new Shape(d);
    }

    public bool Equals(Shape other) => Dims.SequenceEqual(other.Dims);
    public override bool Equals(object? obj) => obj is Shape s && Equals(s);
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (int d in Dims) h.Add(d);
        return h.ToHashCode();
    }

    public static bool operator ==(Shape a, Shape b) => a.Equals(b);
    public static bool operator !=(Shape a, Shape b) => !a.Equals(b);

    public static implicit operator Shape(int[] dims) => new(dims);

    public override string ToString() => Format(_dims ?? []);

    private static string Format(int[] dims) => "[" + string.Join(", ", dims) + "]";
}
