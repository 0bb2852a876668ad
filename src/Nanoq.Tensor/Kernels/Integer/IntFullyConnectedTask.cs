using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nanoq.Kernels.Integer;

/// <summary>
/// One task of <see cref="IntFullyConnected"/>: one input row against a block of outputs. The row is widened to int16
/// once (zeros past the end, where the padded weight rows are zero too), then four weight rows at a time share each
/// load of it: acc_o = Σ vpmaddwd(x, w_o), summed across lanes, plus the per-output offset (bias and z_x correction).
/// </summary>
internal unsafe struct IntFullyConnectedTask : IParallelBody
{
    public byte* X, Y;
    public int* AccOut, Offsets;
    public IntFullyConnectedWeights W;
    public Requantization? Rq;
    public int Blocks;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Invoke(int task)
    {
        int n = task / Blocks, block = task % Blocks;
        int inF = W.InFeatures, outF = W.OutFeatures, stride = W.RowStride;
        // The row widened to int16, zeros past the end (the padded weights are zero there too).
        short* xs = (short*)IntScratch.Current.Get(IntScratch.Panel, stride / 2 + 16);
        byte* row = X + (long)n * inF;
        int k = 0;
        for (; k + 32 <= inF; k += 32) Avx512BW.ConvertToVector512Int16(Vector256.Load(row + k)).Store(xs + k);
        for (; k < stride; k++) xs[k] = k < inF ? row[k] : (short)0;
        short* rows = W.RowsPointer;
        int o0 = block * IntFullyConnected.OutputsPerTask, o1 = o0 + IntFullyConnected.OutputsPerTask < outF ? o0 + IntFullyConnected.OutputsPerTask : outF;
        int o = o0;
        for (; o + 4 <= o1; o += 4)
        {
            short* w0 = rows + (long)o * stride;
            Vector512<int> a0 = default, a1 = default, a2 = default, a3 = default;
            for (int i = 0; i < stride; i += 32)
            {
                var xv = Vector512.Load(xs + i);
                a0 += Avx512BW.MultiplyAddAdjacent(xv, Vector512.Load(w0 + i));
                a1 += Avx512BW.MultiplyAddAdjacent(xv, Vector512.Load(w0 + stride + i));
                a2 += Avx512BW.MultiplyAddAdjacent(xv, Vector512.Load(w0 + 2 * stride + i));
                a3 += Avx512BW.MultiplyAddAdjacent(xv, Vector512.Load(w0 + 3 * stride + i));
            }
            Store(n, o, Vector512.Sum(a0));
            Store(n, o + 1, Vector512.Sum(a1));
            Store(n, o + 2, Vector512.Sum(a2));
            Store(n, o + 3, Vector512.Sum(a3));
        }
        for (; o < o1; o++)
        {
            short* w0 = rows + (long)o * stride;
            Vector512<int> a0 = default;
            for (int i = 0; i < stride; i += 32) a0 += Avx512BW.MultiplyAddAdjacent(Vector512.Load(xs + i), Vector512.Load(w0 + i));
            Store(n, o, Vector512.Sum(a0));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Store(int n, int o, int dot)
    {
        int acc = unchecked(dot + Offsets[o]);
        long i = (long)n * W.OutFeatures + o;
        if (AccOut != null) AccOut[i] = acc;
        else Y[i] = (byte)Rq!.Apply(acc, o);
    }
}
