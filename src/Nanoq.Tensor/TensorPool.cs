using System.Collections.Concurrent;

namespace Nanoq;

/// <summary>
/// Recycles large float buffers by exact length. Why: on these machines the first touch of a fresh page
/// costs ≈ 12 µs, so a training step that allocates its activations anew is many times slower than one that
/// reuses them (DESIGN.md §2). A training or inference step asks for the same lengths every time, so exact-length
/// buckets reach a steady state in which nothing large is allocated.
/// Buffers handed out are NOT cleared. Small buffers (below <see cref="MinPooledLength"/>) bypass the pool.
/// Thread-safe.
/// </summary>
public static class TensorPool
{
    /// <summary>Buffers shorter than this are ordinary allocations (cheap, and pooling them costs more than it saves).</summary>
    public const int MinPooledLength = 1024;

    private static readonly ConcurrentDictionary<int, ConcurrentBag<float[]>> Buckets = new();
    private static long _pooledFloats;

    /// <summary>Upper bound on the floats held idle in the pool; returns beyond it are dropped to the GC.</summary>
    public static long MaxPooledFloats { get; set; } = 1L << 30; // 4 GiB

    /// <summary>Elements currently idle in the pool (float buffers and, from <see cref="RentInt"/>, int buffers).</summary>
    public static long PooledFloats => Interlocked.Read(ref _pooledFloats);

    /// <summary>Number of buffers allocated fresh because the pool had none of the length (for tests and benchmarks).</summary>
    public static long Misses => Interlocked.Read(ref _misses);
    private static long _misses;

    /// <summary>A buffer of exactly <paramref name="length"/> floats with unspecified contents.</summary>
    public static float[] Rent(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (length < MinPooledLength) return length == 0 ? [] : new float[length];
        if (Buckets.TryGetValue(length, out var bag) && bag.TryTake(out var buf))
        {
            Interlocked.Add(ref _pooledFloats, -length);
            return buf;
        }
        Interlocked.Increment(ref _misses);
        return GC.AllocateUninitializedArray<float>(length);
    }

    /// <summary>Gives a buffer back. The caller must not use it afterwards.</summary>
    public static void Return(float[] buffer)
    {
        if (buffer.Length < MinPooledLength) return;
        if (Interlocked.Read(ref _pooledFloats) + buffer.Length > MaxPooledFloats) return;
        Buckets.GetOrAdd(buffer.Length, _ => new ConcurrentBag<float[]>()).Add(buffer);
        Interlocked.Add(ref _pooledFloats, buffer.Length);
    }

    // ---- int buffers (max-pool argmax, index lists) -------------------------------------------------------
    // Same exact-length policy, a separate set of buckets; counted in the same budget (an int is as big as a float).

    private static readonly ConcurrentDictionary<int, ConcurrentBag<int[]>> IntBuckets = new();

    /// <summary>An int buffer of exactly <paramref name="length"/> elements with unspecified contents.</summary>
    public static int[] RentInt(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (length < MinPooledLength) return length == 0 ? [] : new int[length];
        if (IntBuckets.TryGetValue(length, out var bag) && bag.TryTake(out var buf))
        {
            Interlocked.Add(ref _pooledFloats, -length);
            return buf;
        }
        Interlocked.Increment(ref _misses);
        return GC.AllocateUninitializedArray<int>(length);
    }

    /// <summary>Gives an int buffer back. The caller must not use it afterwards.</summary>
    public static void Return(int[] buffer)
    {
        if (buffer.Length < MinPooledLength) return;
        if (Interlocked.Read(ref _pooledFloats) + buffer.Length > MaxPooledFloats) return;
        IntBuckets.GetOrAdd(buffer.Length, _ => new ConcurrentBag<int[]>()).Add(buffer);
        Interlocked.Add(ref _pooledFloats, buffer.Length);
    }

    /// <summary>Drops every idle buffer (lets the GC reclaim them).</summary>
    public static void Clear()
    {
        Buckets.Clear();
        IntBuckets.Clear();
        Interlocked.Exchange(ref _pooledFloats, 0);
    }
}
