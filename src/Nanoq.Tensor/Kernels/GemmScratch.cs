using System.Runtime.CompilerServices;

namespace Nanoq.Kernels;

/// <summary>
/// Per-thread scratch buffers of the GEMM and convolution kernels: packed panels, im2col rows, prepacked
/// weights, partial sums. Each slot only grows, so steady-state calls allocate nothing (DESIGN §2: the first
/// touch of a fresh page costs ~12 µs). Buffers are pinned arrays on the pinned object heap, so the GC
/// reclaims them when their thread ends; pointers handed out are 64-byte aligned.
/// </summary>
internal sealed unsafe class GemmScratch
{
    /// <summary>Slots: each caller uses its own so nested uses (a conv task calling the GEMM driver) never collide.</summary>
    public const int PackA = 0, PackB = 1, Weights = 2, Columns = 3, Partials = 4, Offsets = 5, Phase = 6,
        Block = 7, Transformed = 8, Products = 9, TransformRows = 10, SlotCount = 11;

    [ThreadStatic] private static GemmScratch? t_current;

    private readonly float[]?[] _arrays = new float[SlotCount][];
    private readonly float*[] _aligned = new float*[SlotCount];
    private readonly long[] _capacity = new long[SlotCount];

    /// <summary>The calling thread's scratch.</summary>
    public static GemmScratch Current
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => t_current ??= new GemmScratch();
    }

    /// <summary>A 64-byte aligned buffer of at least <paramref name="floats"/> floats in <paramref name="slot"/>; contents are undefined.</summary>
    public float* Get(int slot, long floats)
    {
        if (floats <= _capacity[slot]) return _aligned[slot];
        return Grow(slot, floats);
    }

    private float* Grow(int slot, long floats)
    {
        // Grow geometrically so a slowly increasing request does not reallocate every call.
        long want = Math.Max(floats, _capacity[slot] + _capacity[slot] / 2);
        if (want + 16 > Array.MaxLength) want = floats;
        if (want + 16 > Array.MaxLength)
            throw new InvalidOperationException($"Kernel scratch request of {floats} floats exceeds the largest array.");
        var array = GC.AllocateUninitializedArray<float>((int)want + 16, pinned: true);
        float* p = (float*)Unsafe.AsPointer(ref array[0]);
        long misalign = ((long)p & 63) / sizeof(float);
        _arrays[slot] = array;
        _aligned[slot] = misalign == 0 ? p : p + (16 - misalign);
        _capacity[slot] = want;
        return _aligned[slot];
    }
}
