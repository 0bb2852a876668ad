using System.Runtime.CompilerServices;

namespace Nanoq.Kernels.Integer;

/// <summary>
/// Per-thread scratch of the integer kernels (interleaved inputs, im2col panels, accumulator tiles, padded planes).
/// Each slot only grows, so steady-state calls allocate nothing (DESIGN.md §2); buffers are pinned int arrays on
/// the pinned object heap, 64-byte aligned, reclaimed by the GC when their thread ends. Integer-typed (the float
/// scratch of the GEMM would drag float into this namespace).
/// </summary>
internal sealed unsafe class IntScratch
{
    /// <summary>
    /// Slots. <see cref="Input"/> and <see cref="Offsets"/> belong to the thread that calls a kernel (the workers read
    /// them through pointers while that call waits — and the caller runs tasks too, so no task may use them); the
    /// others are private to whichever thread runs a task.
    /// </summary>
    public const int Input = 0, Panel = 1, AccTile = 2, ByteTile = 3, Plane = 4, Offsets = 5, PanelIndex = 6, SlotCount = 7;

    [ThreadStatic] private static IntScratch? t_current;

    private readonly int[]?[] _arrays = new int[SlotCount][];
    private readonly int*[] _aligned = new int*[SlotCount];
    private readonly long[] _capacity = new long[SlotCount];

    /// <summary>The calling thread's scratch.</summary>
    public static IntScratch Current
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => t_current ??= new IntScratch();
    }

    /// <summary>A 64-byte aligned buffer of at least <paramref name="ints"/> ints in <paramref name="slot"/>; contents undefined.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int* Get(int slot, long ints)
    {
        if (ints <= _capacity[slot]) return _aligned[slot];
        return Grow(slot, ints);
    }

    private int* Grow(int slot, long ints)
    {
        // Grow geometrically so a slowly increasing request does not reallocate every call.
        long want = ints > _capacity[slot] + _capacity[slot] / 2 ? ints : _capacity[slot] + _capacity[slot] / 2;
        if (want + 16 > Array.MaxLength) want = ints;
        if (want + 16 > Array.MaxLength)
            throw new InvalidOperationException($"Integer kernel scratch request of {ints} ints exceeds the largest array.");
        var array = GC.AllocateUninitializedArray<int>((int)want + 16, pinned: true);
        int* p = (int*)Unsafe.AsPointer(ref array[0]);
        long misalign = ((long)p & 63) / sizeof(int);
        _arrays[slot] = array;
        _aligned[slot] = misalign == 0 ? p : p + (16 - misalign);
        _capacity[slot] = want;
        return _aligned[slot];
    }
}
