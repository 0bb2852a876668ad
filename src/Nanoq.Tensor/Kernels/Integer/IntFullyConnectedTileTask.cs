using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nanoq.Kernels.Integer;

/// <summary>
/// One task of <see cref="IntFullyConnected"/> for many rows and int8 weights: a tile of 64 input rows as a 1×1 conv of
/// 64 positions. The rows are transposed into the conv's interleaved units (unit k of row r: features 4k … 4k + 3, an int;
/// zeros past the features and past the batch), then every block of 4 outputs runs the conv's <c>vpmaddubsw</c>
/// micro-kernel (<see cref="IntConvMicroKernels.Madd16"/>, one tap, the layer's S; its narrow forms for a last tile of
/// at most 48 rows) on the layer's tile-ordered weights, and the epilogue requantizes 16 rows of an output at a time.
/// Why: the row-block task (<see cref="IntFullyConnectedTask"/>) loads a weight vector for every four products of it;
/// the micro-kernel broadcasts a weight int to 64 rows held in registers, as the conv does — fc6 of a box head
/// (600 × 3,136 → 256) ran at ≈ 120 G multiply-adds/s the first way. Same int32 sums, so the same codes. The rows'
/// transpose into units goes by 16 × 16 blocks in registers with AVX-512 (<see cref="IntTranspose"/>), and the
/// codes, made output by output, go back to rows by 16 × 16 byte blocks (<see cref="ByteTranspose"/>).
/// </summary>
internal unsafe struct IntFullyConnectedTileTask : IParallelBody
{
    public const int Rows = IntConvTask.Tile;

    public byte* X, Y;
    public int* AccOut, Offsets;
    public IntFullyConnectedWeights W;
    public Requantization? Rq;
    public int Batch;

    /// <summary>
    /// Runs of 16 outputs a tile is split into (≥ 1): task = tile · OutputSplits + split, each split computing its outputs
    /// for the tile's 64 rows (and transposing the rows itself). Few tiles — a box head's 150 RoIs at batch 1 are three —
    /// would otherwise leave a thread with one partial tile while the other runs two.
    /// </summary>
    public int OutputSplits;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Invoke(int task)
    {
        int split = task % OutputSplits;
        task /= OutputSplits;
        int r0 = task * Rows, rows = Batch - r0 < Rows ? Batch - r0 : Rows;
        int inF = W.InFeatures, outF = W.OutFeatures, units = W.Units, full = inF / 4;
        int groups = (outF + 15) / 16;   // outputs in runs of 16: a split's codes transpose in whole 16 × 16 blocks
        int o0 = 16 * (int)((long)groups * split / OutputSplits), o1 = 16 * (int)((long)groups * (split + 1) / OutputSplits);
        if (o1 > outF) o1 = outF;
        var scratch = IntScratch.Current;
        int* xu = scratch.Get(IntScratch.Input, (long)units * Rows);
        int* acc = scratch.Get(IntScratch.AccTile, 4 * Rows);
        // The tile's codes, [output][row] (64 rows an output), transposed into Y's [row][output] at the end.
        byte* codes = (byte*)scratch.Get(IntScratch.ByteTile, (long)(outF + 15) / 16 * 16 * Rows / 4);
        int* tapOffsets = scratch.Get(IntScratch.PanelIndex, 1);
        tapOffsets[0] = 0;
        // Blocks of 16 rows × 16 whole units transposed in registers (AVX-512); the rest unit by unit.
        int rowsVec = 0, unitsVec = 0;
        if (Simd.Is512)
        {
            rowsVec = rows & ~15;
            unitsVec = full & ~15;
            for (int rb = 0; rb < rowsVec; rb += 16)
                for (int k = 0; k < unitsVec; k += 16)
                    IntTranspose.Transpose16x16(X + (long)(r0 + rb) * inF + 4 * k, inF, xu + (long)k * Rows + rb, Rows);
        }
        for (int r = 0; r < Rows; r++)
        {
            if (r >= rows)
            {
                for (int k = 0; k < units; k++) xu[k * Rows + r] = 0;
                continue;
            }
            byte* row = X + (long)(r0 + r) * inF;
            for (int k = r < rowsVec ? unitsVec : 0; k < full; k++) xu[k * Rows + r] = Unsafe.ReadUnaligned<int>(row + 4 * k);
            if (full < units)
            {
                int last = 0;
                for (int j = 4 * full; j < inF; j++) last |= row[j] << (8 * (j - 4 * full));
                xu[full * Rows + r] = last;
            }
        }
        int live = (rows + 15) >> 4, steps = W.Madd16Steps;
        int* weights = W.TilesPointer;
        for (int cb = o0 / 4; cb < (o1 + 3) / 4; cb++)
        {
            int* a = weights + (long)cb * units * 4;
            IntConvMicroKernels.Madd16(live, a, xu, tapOffsets, 1, units, Rows, steps, acc);
            for (int m = 0; m < 4; m++)
            {
                int o = cb * 4 + m;
                if (o >= outF) break;
                int offset = Offsets[o];
                int* row = acc + m * Rows;
                if (AccOut != null)
                {
                    for (int r = 0; r < rows; r++) AccOut[(long)(r0 + r) * outF + o] = unchecked(row[r] + offset);
                    continue;
                }
                Rq!.ApplyToBytes(row, live, offset, o, codes + (long)o * Rows);
            }
        }
        if (AccOut == null) StoreCodes(codes, r0, rows, o0, o1, outF);
    }

    /// <summary>Y[r0 + r, o] = codes[o · 64 + r] for outputs [o0, o1) (o0 a multiple of 16): 16 × 16 blocks transposed in
    /// registers (<see cref="ByteTranspose"/>), the rows and outputs past the last whole block byte by byte.</summary>
    private void StoreCodes(byte* codes, int r0, int rows, int o0, int o1, int outF)
    {
        int rowsFull = rows & ~15, outFull = o0 + ((o1 - o0) & ~15);
        byte* y = Y + (long)r0 * outF;
        for (int o = o0; o < outFull; o += 16)
            for (int r = 0; r < rowsFull; r += 16)
                ByteTranspose.Transpose16x16(codes + (long)o * Rows + r, Rows, y + (long)r * outF + o, outF);
        for (int o = outFull; o < o1; o++)
            for (int r = 0; r < rowsFull; r++) y[(long)r * outF + o] = codes[(long)o * Rows + r];
        for (int r = rowsFull; r < rows; r++)
            for (int o = o0; o < o1; o++) y[(long)r * outF + o] = codes[(long)o * Rows + r];
    }
}
