using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nanoq.Kernels.Integer;

/// <summary>
/// One task of <see cref="IntFullyConnected"/>'s int16 path (8-bit weights): a block of up to <see cref="IntFullyConnected.RowsPerTask"/> input rows
/// against a block of outputs. The rows are widened to int16 once (zeros past the end, where the padded weight rows are
/// zero too); then four weight rows at a time meet the four input rows, so each weight load serves four rows and each
/// input load four outputs: acc[r, o] = Σ vpmaddwd(x_r, w_o), summed across lanes, plus the per-output offset (bias and
/// z_x correction). Why four rows: a box head runs fc6 on hundreds of RoIs with a weight matrix larger than the L2
/// cache; one row a task streamed the whole matrix from memory once per row. Missing rows of the last block repeat the
/// block's last row and are not stored.
/// Layers with int8 weights take <see cref="IntFullyConnectedPanelTask"/> instead.
/// </summary>
internal unsafe struct IntFullyConnectedTask : IParallelBody
{
    public byte* X, Y;
    public int* AccOut, Offsets;
    public IntFullyConnectedWeights W;
    public Requantization? Rq;
    public int Batch, RowBlocks;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Invoke(int task)
    {
        // Output-block-major: a thread's consecutive tasks share one block of weight rows.
        int block = task / RowBlocks, n0 = task % RowBlocks * IntFullyConnected.RowsPerTask;
        int rows = Batch - n0 < IntFullyConnected.RowsPerTask ? Batch - n0 : IntFullyConnected.RowsPerTask;
        int inF = W.InFeatures, outF = W.OutFeatures, stride = W.RowStride;
        short* xs = (short*)IntScratch.Current.Get(IntScratch.Panel, IntFullyConnected.RowsPerTask * stride / 2 + 16);
        for (int r = 0; r < IntFullyConnected.RowsPerTask; r++)
        {
            byte* row = X + (long)(n0 + (r < rows ? r : rows - 1)) * inF;
            short* xr = xs + (long)r * stride;
            int k = 0;
            for (; k + 32 <= inF; k += 32) Avx512BW.ConvertToVector512Int16(Vector256.Load(row + k)).Store(xr + k);
            for (; k < stride; k++) xr[k] = k < inF ? row[k] : (short)0;
        }
        short* x0 = xs, x1 = xs + stride, x2 = xs + 2 * stride, x3 = xs + 3 * stride;
        short* weights = W.RowsPointer;
        int o0 = block * IntFullyConnected.OutputsPerTask, o1 = o0 + IntFullyConnected.OutputsPerTask < outF ? o0 + IntFullyConnected.OutputsPerTask : outF;
        int* tile = IntScratch.Current.Get(IntScratch.AccTile, IntFullyConnected.RowsPerTask * IntFullyConnected.OutputsPerTask);
        int o = o0;
        for (; o + 4 <= o1; o += 4)
        {
            short* w0 = weights + (long)o * stride, w1 = w0 + stride, w2 = w1 + stride, w3 = w2 + stride;
            Vector512<int> a00 = default, a01 = default, a02 = default, a03 = default, a10 = default, a11 = default, a12 = default, a13 = default,
                           a20 = default, a21 = default, a22 = default, a23 = default, a30 = default, a31 = default, a32 = default, a33 = default;
            for (int i = 0; i < stride; i += 32)
            {
                var v0 = Vector512.Load(x0 + i);
                var v1 = Vector512.Load(x1 + i);
                var v2 = Vector512.Load(x2 + i);
                var v3 = Vector512.Load(x3 + i);
                var w = Vector512.Load(w0 + i);
                a00 += Avx512BW.MultiplyAddAdjacent(v0, w); a10 += Avx512BW.MultiplyAddAdjacent(v1, w);
                a20 += Avx512BW.MultiplyAddAdjacent(v2, w); a30 += Avx512BW.MultiplyAddAdjacent(v3, w);
                w = Vector512.Load(w1 + i);
                a01 += Avx512BW.MultiplyAddAdjacent(v0, w); a11 += Avx512BW.MultiplyAddAdjacent(v1, w);
                a21 += Avx512BW.MultiplyAddAdjacent(v2, w); a31 += Avx512BW.MultiplyAddAdjacent(v3, w);
                w = Vector512.Load(w2 + i);
                a02 += Avx512BW.MultiplyAddAdjacent(v0, w); a12 += Avx512BW.MultiplyAddAdjacent(v1, w);
                a22 += Avx512BW.MultiplyAddAdjacent(v2, w); a32 += Avx512BW.MultiplyAddAdjacent(v3, w);
                w = Vector512.Load(w3 + i);
                a03 += Avx512BW.MultiplyAddAdjacent(v0, w); a13 += Avx512BW.MultiplyAddAdjacent(v1, w);
                a23 += Avx512BW.MultiplyAddAdjacent(v2, w); a33 += Avx512BW.MultiplyAddAdjacent(v3, w);
            }
            Store4(tile, o0, rows, o, a00, a10, a20, a30);
            Store4(tile, o0, rows, o + 1, a01, a11, a21, a31);
            Store4(tile, o0, rows, o + 2, a02, a12, a22, a32);
            Store4(tile, o0, rows, o + 3, a03, a13, a23, a33);
        }
        for (; o < o1; o++)
        {
            short* w0 = weights + (long)o * stride;
            Vector512<int> a0 = default, a1 = default, a2 = default, a3 = default;
            for (int i = 0; i < stride; i += 32)
            {
                var w = Vector512.Load(w0 + i);
                a0 += Avx512BW.MultiplyAddAdjacent(Vector512.Load(x0 + i), w);
                a1 += Avx512BW.MultiplyAddAdjacent(Vector512.Load(x1 + i), w);
                a2 += Avx512BW.MultiplyAddAdjacent(Vector512.Load(x2 + i), w);
                a3 += Avx512BW.MultiplyAddAdjacent(Vector512.Load(x3 + i), w);
            }
            Store4(tile, o0, rows, o, a0, a1, a2, a3);
        }
        Flush(tile, n0, rows, o0, o1);
    }

    /// <summary>Output o of the block's rows into the task's tile (only the first <paramref name="rows"/>: the rest repeat the last row).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Store4(int* tile, int o0, int rows, int o, Vector512<int> r0, Vector512<int> r1, Vector512<int> r2, Vector512<int> r3)
    {
        int offset = Offsets[o], at = o - o0;
        tile[at] = unchecked(Vector512.Sum(r0) + offset);
        if (rows > 1) tile[IntFullyConnected.OutputsPerTask + at] = unchecked(Vector512.Sum(r1) + offset);
        if (rows > 2) tile[2 * IntFullyConnected.OutputsPerTask + at] = unchecked(Vector512.Sum(r2) + offset);
        if (rows > 3) tile[3 * IntFullyConnected.OutputsPerTask + at] = unchecked(Vector512.Sum(r3) + offset);
    }

    /// <summary>
    /// The tile's accumulators [rows, o0 … o1) to the output: as they are, or requantized 16 outputs at a time, each with
    /// its own (M0, shift) (<c>Requantization.ApplyChannels</c>; the scalar <c>Apply</c> for the last few).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Flush(int* tile, int n0, int rows, int o0, int o1)
    {
        int count = o1 - o0;
        for (int r = 0; r < rows; r++)
        {
            int* acc = tile + r * IntFullyConnected.OutputsPerTask;
            long at = (long)(n0 + r) * W.OutFeatures + o0;
            if (AccOut != null)
            {
                new ReadOnlySpan<int>(acc, count).CopyTo(new Span<int>(AccOut + at, count));
                continue;
            }
            var rq = Rq!;
            int j = 0;
            for (; j + 16 <= count; j += 16)
                Avx512F.ConvertToVector128Byte(rq.ApplyChannels(Vector512.Load(acc + j), o0 + j)).Store(Y + at + j);
            for (; j < count; j++) Y[at + j] = (byte)rq.Apply(acc[j], o0 + j);
        }
    }
}
