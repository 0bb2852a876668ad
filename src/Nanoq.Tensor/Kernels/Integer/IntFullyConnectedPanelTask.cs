using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nanoq.Kernels.Integer;

/// <summary>
/// One task of <see cref="IntFullyConnected"/> for int8 weights: a panel of 64 outputs against a run of blocks of 4 input
/// rows, on <see cref="IntFullyConnectedMicroKernels.Madd16"/> — the weights as vectors (the layer's panels,
/// <see cref="IntFullyConnectedWeights.PanelsPointer"/>), each row's 4-feature units broadcast straight from the row-major
/// input, the 64 accumulators of a row requantized 16 outputs at a time (<see cref="Requantization.ApplyChannels(System.Runtime.Intrinsics.Vector512{int}, int)"/>, each
/// output its own multiplier) and stored as one row of the output. Tasks are panel-major, so a thread's consecutive
/// tasks share a panel (3,136 features × 64 outputs: 200 KiB, the L2 of a core). A last block of fewer than 4 rows
/// repeats its first row (not stored). Rows whose length is not a multiple of 4 are copied into zero-padded scratch
/// first (their last unit would read past the row). Why not the conv's orientation (64 rows a tile, outputs
/// broadcast): its rows must be transposed into units and its codes back into rows, and a batch that is not a multiple
/// of 64 rows leaves lanes empty; and the int8 row blocks it replaced below 32 rows (4 rows × 4 outputs, dot products
/// along the features summed across lanes at the end) load a weight vector for every four products. Medians of two
/// alternating runs of both builds (<c>Nanoq.Integer.Benchmarks --fc</c>'s shapes, Zen 4, 2026-12-07 07:41–07:42, load
/// 0.53 → 0.98), the old way against this one: a box head's fc6 at batch 1 (150 RoIs × 3,136 → 256) 448–454 µs against
/// 368–384, at batch 8 (1,200 RoIs) 3.18–3.19 ms against 2.92–3.08, one row 21–23 µs against 10–12, 8 rows 34–48
/// against 20–23, 40 rows 163–172 against 97–101.
/// </summary>
internal unsafe struct IntFullyConnectedPanelTask : IParallelBody
{
    /// <summary>Input rows a micro-tile takes.</summary>
    public const int Rows = 4;

    public byte* X, Y;
    public int* AccOut, Offsets;
    public IntFullyConnectedWeights W;
    public Requantization? Rq;
    public int Batch;

    /// <summary>Runs each panel's row blocks are split into: task = panel · Chunks + chunk.</summary>
    public int Chunks;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Invoke(int task)
    {
        const int panel = IntFullyConnectedMicroKernels.Panel;
        int p = task / Chunks, chunk = task % Chunks;
        int blocks = (Batch + Rows - 1) / Rows;
        int b0 = (int)((long)blocks * chunk / Chunks), b1 = (int)((long)blocks * (chunk + 1) / Chunks);
        int inF = W.InFeatures, outF = W.OutFeatures, units = W.Units, steps = W.Madd16Steps;
        int o0 = p * panel, outputs = outF - o0 < panel ? outF - o0 : panel, live = (outputs + 15) >> 4;
        int* weights = W.PanelsPointer + (long)p * units * panel;
        var scratch = IntScratch.Current;
        int* acc = scratch.Get(IntScratch.AccTile, Rows * panel);
        bool padded = inF % 4 != 0;
        int* rowsCopy = padded ? scratch.Get(IntScratch.Input, (long)Rows * units) : null;
        int* x0, x1, x2, x3;
        for (int b = b0; b < b1; b++)
        {
            int r0 = b * Rows, rows = Batch - r0 < Rows ? Batch - r0 : Rows;
            if (padded)
            {
                for (int m = 0; m < Rows; m++)
                {
                    byte* src = X + (long)(r0 + (m < rows ? m : 0)) * inF;
                    byte* dst = (byte*)(rowsCopy + (long)m * units);
                    Buffer.MemoryCopy(src, dst, inF, inF);
                    for (int j = inF; j < 4 * units; j++) dst[j] = 0;
                }
                x0 = rowsCopy; x1 = rowsCopy + units; x2 = rowsCopy + 2 * units; x3 = rowsCopy + 3 * units;
            }
            else
            {
                x0 = (int*)(X + (long)r0 * inF);
                x1 = rows > 1 ? (int*)(X + (long)(r0 + 1) * inF) : x0;
                x2 = rows > 2 ? (int*)(X + (long)(r0 + 2) * inF) : x0;
                x3 = rows > 3 ? (int*)(X + (long)(r0 + 3) * inF) : x0;
            }
            IntFullyConnectedMicroKernels.Madd16(live, x0, x1, x2, x3, weights, units, steps, acc);
            for (int m = 0; m < rows; m++) Store(acc + m * panel, (long)(r0 + m) * outF + o0, o0, outputs);
        }
    }

    /// <summary>One row's accumulators of the panel's outputs [o0, o0 + count) (offsets added) to the output at
    /// <paramref name="at"/>: as they are, or requantized 16 outputs at a time (<see cref="Requantization.ApplyChannels(Vector512{int}, int)"/> or its
    /// 8-lane form twice; the scalar form for the last few).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Store(int* acc, long at, int o0, int count)
    {
        int* offsets = Offsets + o0;
        if (AccOut != null)
        {
            for (int i = 0; i < count; i++) AccOut[at + i] = unchecked(acc[i] + offsets[i]);
            return;
        }
        var rq = Rq!;
        int j = 0;
        if (Simd.Is512)
            for (; j + 16 <= count; j += 16)
                Avx512F.ConvertToVector128Byte(rq.ApplyChannels(Vector512.Load(acc + j) + Vector512.Load(offsets + j), o0 + j)).Store(Y + at + j);
        else
            for (; j + 16 <= count; j += 16)
                Narrow.ToBytes(rq.ApplyChannels(Vector256.Load(acc + j) + Vector256.Load(offsets + j), o0 + j),
                               rq.ApplyChannels(Vector256.Load(acc + j + 8) + Vector256.Load(offsets + j + 8), o0 + j + 8)).Store(Y + at + j);
        for (; j < count; j++) Y[at + j] = (byte)rq.Apply(unchecked(acc[j] + offsets[j]), o0 + j);
    }
}
