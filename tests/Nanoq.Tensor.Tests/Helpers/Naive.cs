namespace Nanoq.Tests;

/// <summary>Slow, obviously-correct references for the Ops tests (double precision, index arithmetic only).</summary>
internal static class Naive
{
    /// <summary>The flat index in <paramref name="src"/> that broadcasting maps output index <paramref name="outIdx"/> to.</summary>
    public static int BroadcastIndex(int[] outIdx, int[] src)
    {
        int off = outIdx.Length - src.Length, flat = 0;
        for (int i = 0; i < src.Length; i++) flat = flat * src[i] + (src[i] == 1 ? 0 : outIdx[i + off]);
        return flat;
    }

    public static double[] Binary(Tensor a, Tensor b, int[] outDims, Func<double, double, double> f)
    {
        int size = new Shape(outDims).Size;
        var y = new double[size];
        var ad = a.Shape.ToArray();
        var bd = b.Shape.ToArray();
        for (int i = 0; i < size; i++)
        {
            var idx = Data.Unravel(i, outDims);
            y[i] = f(a.Span[BroadcastIndex(idx, ad)], b.Span[BroadcastIndex(idx, bd)]);
        }
        return y;
    }

    /// <summary>Σ of x over the axes flagged in <paramref name="reduce"/>, output in the kept axes' row-major order.</summary>
    public static double[] Sum(Tensor x, bool[] reduce)
    {
        var dims = x.Shape.ToArray();
        var kept = dims.Where((_, i) => !reduce[i]).ToArray();
        var y = new double[new Shape(kept).Size];
        for (int i = 0; i < x.Size; i++)
        {
            var idx = Data.Unravel(i, dims);
            int flat = 0;
            for (int a = 0; a < dims.Length; a++) if (!reduce[a]) flat = flat * dims[a] + idx[a];
            y[flat] += x.Span[i];
        }
        return y;
    }
}
