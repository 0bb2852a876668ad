using System.Runtime.CompilerServices;

namespace Nanoq.Kernels.Integer;

/// <summary>
/// One RoI of <see cref="IntRoiAlign"/>: all channels and bins of RoI <c>task</c>, written to its own output row, so
/// tasks never share an output and the result does not depend on the split: codes rounded onto the input's grid
/// (<see cref="Output"/>), or the Q22 accumulators themselves (<see cref="Accumulators"/>, when set). Pointers are pinned
/// by the caller.
/// </summary>
internal unsafe struct IntRoiAlignTask : IParallelBody
{
    public byte* Codes, Output;
    public int* Accumulators;
    public int* Batch, TapStart, TapIndex, TapWeight, OutputRows;
    public int Channels, Plane, Bins, ZeroPoint;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Invoke(int task)
    {
        const int f = IntRoiAlignPlan.FractionBits, half = 1 << (f - 1), mask = (1 << f) - 1;
        int k = task, z = ZeroPoint, bins = Bins;
        int row = OutputRows == null ? k : OutputRows[k];
        int* start = TapStart + (long)k * bins;
        for (int ch = 0; ch < Channels; ch++)
        {
            byte* x = Codes + ((long)Batch[k] * Channels + ch) * Plane;
            long at = ((long)row * Channels + ch) * bins;
            for (int bin = 0; bin < bins; bin++)
            {
                int acc = 0;
                for (int t = start[bin], e = start[bin + 1]; t < e; t++)
                    acc += TapWeight[t] * (x[TapIndex[t]] - z);
                if (Accumulators != null)
                {
                    Accumulators[at + bin] = acc;
                    continue;
                }
                int q = acc >> f;                // floor, also for negative acc
                int rem = acc & mask;            // acc − q·2^f, in [0, 2^f)
                if (rem > half || (rem == half && (q & 1) != 0)) q++;
                Output[at + bin] = (byte)(z + q);
            }
        }
    }
}
