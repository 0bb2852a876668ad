using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Nanoq.Detection;

/// <summary>
/// A set of n boxes transposed to columns (x1[n], y1[n], x2[n], y2[n], area[n]) in one pooled buffer, so the IoU
/// of one box against many runs over contiguous lanes (<see cref="BoxIouLanes"/>). Boxes are (x1, y1, x2, y2)
/// rows of a flat span; area = (x2 − x1)(y2 − y1) exactly as torchvision computes it. Dispose returns the buffer.
/// </summary>
internal struct BoxColumns : IDisposable
{
    private float[]? _buffer;

    public int Count { get; }

    private BoxColumns(int count)
    {
        Count = count;
        _buffer = ArrayPool<float>.Shared.Rent(Math.Max(1, 5 * count));
    }

    /// <summary>Columns of all rows of <paramref name="boxes"/> (length 4n), in row order.</summary>
    public static BoxColumns From(ReadOnlySpan<float> boxes)
    {
        int n = boxes.Length / 4;
        var c = new BoxColumns(n);
        for (int i = 0; i < n; i++) c.Set(i, boxes, i);
        return c;
    }

    /// <summary>Columns of rows <c>order[0..]</c> of <paramref name="boxes"/>, in that order (a gather).</summary>
    public static BoxColumns Gather(ReadOnlySpan<float> boxes, ReadOnlySpan<int> order)
    {
        var c = new BoxColumns(order.Length);
        for (int i = 0; i < order.Length; i++) c.Set(i, boxes, order[i]);
        return c;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly void Set(int i, ReadOnlySpan<float> boxes, int row)
    {
        var b = boxes.Slice(4 * row, 4);
        float x1 = b[0], y1 = b[1], x2 = b[2], y2 = b[3];
        var buf = _buffer!;
        int n = Count;
        buf[i] = x1;
        buf[n + i] = y1;
        buf[2 * n + i] = x2;
        buf[3 * n + i] = y2;
        buf[4 * n + i] = (x2 - x1) * (y2 - y1);
    }

    /// <summary>Column <paramref name="k"/> (0 x1, 1 y1, 2 x2, 3 y2, 4 area) as a ref to its first element.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly ref float Column(int k) => ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_buffer!), k * Count);

    public void Dispose()
    {
        if (_buffer is { } b)
        {
            _buffer = null;
            ArrayPool<float>.Shared.Return(b);
        }
    }
}
