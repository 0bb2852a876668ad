using System.Collections.Concurrent;

namespace Nanoq;

/// <summary>
/// Recycles large float buffers by exact length. Why: on these machines the first touch of a fresh page
/// costs ≈ 12 µs, so a training step that allocates its activations anew is many times slower than one that
/// reuses them (DESIGN.md §2). A training or inference step asks for the same lengths every time, so exact-length
/// buckets reach a steady state in which nothing large is allocated.
/// <para>
/// Not every model asks for the same lengths: Faster R-CNN's RoI tensors are as long as that step's proposals, so
/// lengths drift and idle buffers of lengths never asked for again pile up (a default Faster R-CNN run peaked at
/// 5.8 GB resident under the old policy of dropping only the newest returns once the budget was full). So the budget is
/// kept by recency: a return that would exceed <see cref="MaxPooledFloats"/> first releases the buckets used longest
/// ago (never its own length) to make room (<see cref="Evict"/>) — the steady-state lengths, used every step, stay.
/// </para>
/// Buffers handed out are NOT cleared. Small buffers (below <see cref="MinPooledLength"/>) bypass the pool.
/// Thread-safe.
/// </summary>
public static class TensorPool
{
    /// <summary>Buffers shorter than this are ordinary allocations (cheap, and pooling them costs more than it saves).</summary>
    public const int MinPooledLength = 1024;

    /// <summary>Idle buffers of one length, and when that length was last asked for (a tick of <see cref="_clock"/>).</summary>
    private sealed class Bucket<T>
    {
        public readonly ConcurrentBag<T[]> Items = new();
        public long LastUse;
    }

    private static readonly ConcurrentDictionary<int, Bucket<float>> Buckets = new();
    private static readonly ConcurrentDictionary<int, Bucket<int>> IntBuckets = new();
    private static readonly Lock EvictionLock = new();
    private static long _pooledFloats, _clock, _misses;

    /// <summary>Upper bound on the elements held idle in the pool (1 GiB of floats by default).</summary>
    public static long MaxPooledFloats { get; set; } = 1L << 28;

    /// <summary>Elements currently idle in the pool (float buffers and, from <see cref="RentInt"/>, int buffers).</summary>
    public static long PooledFloats => Interlocked.Read(ref _pooledFloats);

    /// <summary>Number of buffers allocated fresh because the pool had none of the length (for tests and benchmarks).</summary>
    public static long Misses => Interlocked.Read(ref _misses);

    /// <summary>A buffer of exactly <paramref name="length"/> floats with unspecified contents.</summary>
    public static float[] Rent(int length) => Rent(Buckets, length);

    /// <summary>Gives a buffer back. The caller must not use it afterwards.</summary>
    public static void Return(float[] buffer) => Return(Buckets, buffer);

    // ---- int buffers (max-pool argmax, index lists) -------------------------------------------------------
    // Same exact-length policy, a separate set of buckets; counted in the same budget (an int is as big as a float).

    /// <summary>An int buffer of exactly <paramref name="length"/> elements with unspecified contents.</summary>
    public static int[] RentInt(int length) => Rent(IntBuckets, length);

    /// <summary>Gives an int buffer back. The caller must not use it afterwards.</summary>
    public static void Return(int[] buffer) => Return(IntBuckets, buffer);

    /// <summary>Drops every idle buffer (lets the GC reclaim them).</summary>
    public static void Clear()
    {
        lock (EvictionLock)
        {
            Buckets.Clear();
            IntBuckets.Clear();
            Interlocked.Exchange(ref _pooledFloats, 0);
        }
    }

    private static T[] Rent<T>(ConcurrentDictionary<int, Bucket<T>> buckets, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (length < MinPooledLength) return length == 0 ? [] : new T[length];
        var bucket = buckets.GetOrAdd(length, _ => new Bucket<T>());
        Volatile.Write(ref bucket.LastUse, Interlocked.Increment(ref _clock));
        if (bucket.Items.TryTake(out var buf))
        {
            Interlocked.Add(ref _pooledFloats, -length);
            return buf;
        }
        Interlocked.Increment(ref _misses);
        return GC.AllocateUninitializedArray<T>(length);
    }

    private static void Return<T>(ConcurrentDictionary<int, Bucket<T>> buckets, T[] buffer)
    {
        if (buffer.Length < MinPooledLength) return;
        if (Interlocked.Read(ref _pooledFloats) + buffer.Length > MaxPooledFloats)
        {
            Evict(buffer.Length, typeof(T));
            if (Interlocked.Read(ref _pooledFloats) + buffer.Length > MaxPooledFloats) return; // the budget is this length's own
        }
        buckets.GetOrAdd(buffer.Length, _ => new Bucket<T>()).Items.Add(buffer);
        Interlocked.Add(ref _pooledFloats, buffer.Length);
    }

    /// <summary>
    /// Releases idle buffers, least recently asked-for lengths first (except <paramref name="keep"/> of its type), until a
    /// buffer of that length fits with room to spare: to ¾ of the budget, or less when the buffer itself is larger.
    /// </summary>
    private static void Evict(int keep, Type keepType)
    {
        lock (EvictionLock)
        {
            long target = Math.Min(MaxPooledFloats * 3 / 4, MaxPooledFloats - keep);
            var order = Buckets.Where(b => !(keepType == typeof(float) && b.Key == keep)).Select(b => (b.Value.LastUse, Take: (Func<bool>)(() => TakeOne(b.Value, b.Key))))
                .Concat(IntBuckets.Where(b => !(keepType == typeof(int) && b.Key == keep)).Select(b => (b.Value.LastUse, Take: (Func<bool>)(() => TakeOne(b.Value, b.Key)))))
                .OrderBy(b => b.LastUse).ToList();
            foreach (var (_, take) in order)
                while (Interlocked.Read(ref _pooledFloats) > target && take()) { }
        }
    }

    private static bool TakeOne<T>(Bucket<T> bucket, int length)
    {
        if (!bucket.Items.TryTake(out _)) return false;
        Interlocked.Add(ref _pooledFloats, -length);
        return true;
    }
}
