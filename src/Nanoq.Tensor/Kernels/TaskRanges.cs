namespace Nanoq.Kernels;

/// <summary>
/// The task indices [0, n) of a <see cref="ParallelRunner"/> region, dealt in contiguous ranges: thread slot k of d (the
/// caller of a top-level region is slot 0, worker k slot k) owns [k·n/d, (k+1)·n/d), takes its own tasks from the
/// front, and when they are gone takes the others' from the back.
/// <para>
/// Why not one shared counter: with it, which thread runs task t changes from call to call, so the data a task writes
/// (an output row band, a chunk's interleaved input) is read next — by the following phase or layer — from the other
/// core's cache about half the time. Where the VM's two cores sit on different core complexes (no shared L3), such a
/// line costs 160–200 ns against 30–85 ns within one, and the integer Winograd conv ran 1.7× slower there (3.6–3.9 ms
/// against 2.2 ms, the ping-pong latency of one cache line as the marker; 2026-12-07, 12:00–12:15; benchmarks/README.md,
/// "fourteenth session"). Ranges keep a region's tasks on the same thread every call, and the tasks of consecutive
/// regions that touch the same images on the same thread (kernels number their tasks image-major), while taking from the
/// back keeps the balance of a shared counter: an idle thread still takes any task not yet started.
/// </para>
/// </summary>
internal sealed class TaskRanges
{
    /// <summary>Longs between two ranges: a cache line each, so the threads' takes do not contend for one line.</summary>
    private const int Stride = 8;

    // Range k at [k·Stride]: front in the low 32 bits, back (exclusive) in the high 32; empty when front ≥ back.
    private long[] _ranges = new long[Stride];
    private int _slots;
    private int _stopped;

    /// <summary>
    /// Deals [<paramref name="first"/>, <paramref name="count"/>) to <paramref name="slots"/> threads (the tasks below
    /// <paramref name="first"/> are the caller's, run already). Only the region's owner calls it, before it wakes the workers.
    /// </summary>
    public void Deal(int first, int count, int slots)
    {
        if (_ranges.Length < slots * Stride) _ranges = new long[slots * Stride];
        for (int k = 0; k < slots; k++)
        {
            int front = (int)((long)count * k / slots), back = (int)((long)count * (k + 1) / slots);
            if (front < first) front = first;
            _ranges[k * Stride] = Pack(front, back < front ? front : back);
        }
        _slots = slots;
        Volatile.Write(ref _stopped, 0);
    }

    /// <summary>Hands out no more tasks (a task failed: the region is failing anyway).</summary>
    public void Stop() => Volatile.Write(ref _stopped, 1);

    /// <summary>
    /// The next task for thread <paramref name="slot"/>: the front of its own range, else the back of another's; −1 when
    /// none is left. A slot past the dealt ones has no range of its own and only takes from the others'.
    /// </summary>
    public int Take(int slot)
    {
        if (Volatile.Read(ref _stopped) != 0) return -1;
        int slots = _slots, t;
        if (slot < slots && (t = TakeFront(ref _ranges[slot * Stride])) >= 0) return t;
        int from = slot < slots ? slot : slots - 1;
        for (int i = 1; i <= slots; i++)
        {
            int k = (from + i) % slots;
            if (k != slot && (t = TakeBack(ref _ranges[k * Stride])) >= 0) return t;
        }
        return -1;
    }

    private static int TakeFront(ref long range)
    {
        while (true)
        {
            long seen = Volatile.Read(ref range);
            int front = (int)seen, back = (int)(seen >> 32);
            if (front >= back) return -1;
            if (Interlocked.CompareExchange(ref range, Pack(front + 1, back), seen) == seen) return front;
        }
    }

    private static int TakeBack(ref long range)
    {
        while (true)
        {
            long seen = Volatile.Read(ref range);
            int front = (int)seen, back = (int)(seen >> 32);
            if (front >= back) return -1;
            if (Interlocked.CompareExchange(ref range, Pack(front, back - 1), seen) == seen) return back - 1;
        }
    }

    private static long Pack(int front, int back) => ((long)back << 32) | (uint)front;
}
