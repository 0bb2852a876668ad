using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace Nanoq.Kernels;

/// <summary>
/// Softmax and log-softmax along one axis of a row-major tensor viewed as [outer, axisLen, inner]
/// (for an axis a of shape d: outer = d0·…·d(a−1), axisLen = d(a), inner = d(a+1)·…).
/// Forward subtracts the max along the axis first, so exp never overflows.
/// <list type="bullet">
/// <item>softmax:      y = e^(x − m) / Σ e^(x − m);     dx = y ⊙ (dy − Σ dy ⊙ y)</item>
/// <item>log-softmax:  y = x − (m + log Σ e^(x − m));   dx = dy − e^y · Σ dy</item>
/// </list>
/// Contiguous rows (inner = 1) run on TensorPrimitives per row; strided axes (inner &gt; 1) run down the axis
/// over tiles of up to <see cref="Tile"/> columns, vectorized across the columns. No heap allocation; outputs may
/// alias the input exactly (every tile reads what it needs before overwriting it).
/// </summary>
public static class Softmax
{
    private const int Tile = 256;

    /// <summary>x, y: [outer, axisLen, inner]; y = softmax(x) along the axis.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(ReadOnlySpan<float> x, int outer, int axisLen, int inner, Span<float> y)
    {
        int block = Check(x.Length, y.Length, outer, axisLen, inner);
        if (axisLen == 0 || block == 0) return;
        if (inner == 1)
        {
            for (int o = 0; o < outer; o++)
            {
                var xr = x.Slice(o * axisLen, axisLen);
                var yr = y.Slice(o * axisLen, axisLen);
                float m = TensorPrimitives.Max(xr);
                TensorPrimitives.Subtract(xr, m, yr);
                TensorPrimitives.Exp(yr, yr);
                TensorPrimitives.Divide(yr, (float)Summation.Sum(yr), yr);
            }
            return;
        }
        Span<float> mBuf = stackalloc float[Tile];
        Span<float> sBuf = stackalloc float[Tile];
        for (int o = 0; o < outer; o++)
        {
            int baseIdx = o * block;
            for (int j0 = 0; j0 < inner; j0 += Tile)
            {
                int t = Math.Min(Tile, inner - j0);
                var m = mBuf[..t];
                var s = sBuf[..t];
                x.Slice(baseIdx + j0, t).CopyTo(m);
                for (int l = 1; l < axisLen; l++) TensorPrimitives.Max(m, x.Slice(baseIdx + l * inner + j0, t), m);
                s.Clear();
                for (int l = 0; l < axisLen; l++)
                {
                    var yr = y.Slice(baseIdx + l * inner + j0, t);
                    TensorPrimitives.Subtract(x.Slice(baseIdx + l * inner + j0, t), m, yr);
                    TensorPrimitives.Exp(yr, yr);
                    TensorPrimitives.Add(s, yr, s);
                }
                for (int l = 0; l < axisLen; l++)
                {
                    var yr = y.Slice(baseIdx + l * inner + j0, t);
                    TensorPrimitives.Divide(yr, s, yr);
                }
            }
        }
    }

    /// <summary>dx = y ⊙ (dy − Σ_axis dy ⊙ y), from the forward output y. dx may alias dy.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, int outer, int axisLen, int inner, Span<float> dx)
    {
        int block = Check(y.Length, dx.Length, outer, axisLen, inner);
        CheckLength(dy.Length, y.Length);
        if (axisLen == 0 || block == 0) return;
        if (inner == 1)
        {
            for (int o = 0; o < outer; o++)
            {
                var yr = y.Slice(o * axisLen, axisLen);
                var gr = dy.Slice(o * axisLen, axisLen);
                var dr = dx.Slice(o * axisLen, axisLen);
                float d = (float)Summation.Dot(gr, yr);
                TensorPrimitives.Subtract(gr, d, dr);
                TensorPrimitives.Multiply(dr, yr, dr);
            }
            return;
        }
        Span<float> dBuf = stackalloc float[Tile];
        for (int o = 0; o < outer; o++)
        {
            int baseIdx = o * block;
            for (int j0 = 0; j0 < inner; j0 += Tile)
            {
                int t = Math.Min(Tile, inner - j0);
                var d = dBuf[..t];
                d.Clear();
                for (int l = 0; l < axisLen; l++)
                {
                    int at = baseIdx + l * inner + j0;
                    TensorPrimitives.MultiplyAdd(dy.Slice(at, t), y.Slice(at, t), d, d);
                }
                for (int l = 0; l < axisLen; l++)
                {
                    int at = baseIdx + l * inner + j0;
                    var dr = dx.Slice(at, t);
                    TensorPrimitives.Subtract(dy.Slice(at, t), d, dr);
                    TensorPrimitives.Multiply(dr, y.Slice(at, t), dr);
                }
            }
        }
    }

    /// <summary>x, y: [outer, axisLen, inner]; y = x − logΣexp(x) along the axis.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LogSoftmaxForward(ReadOnlySpan<float> x, int outer, int axisLen, int inner, Span<float> y)
    {
        int block = Check(x.Length, y.Length, outer, axisLen, inner);
        if (axisLen == 0 || block == 0) return;
        Span<float> tBuf = stackalloc float[Tile];
        if (inner == 1)
        {
            for (int o = 0; o < outer; o++)
            {
                var xr = x.Slice(o * axisLen, axisLen);
                float m = TensorPrimitives.Max(xr);
                // Σ e^(x − m) through a stack tile, so y may alias x.
                double s = 0;
                for (int j0 = 0; j0 < axisLen; j0 += Tile)
                {
                    int t = Math.Min(Tile, axisLen - j0);
                    var tmp = tBuf[..t];
                    TensorPrimitives.Subtract(xr.Slice(j0, t), m, tmp);
                    TensorPrimitives.Exp(tmp, tmp);
                    s += Summation.Sum(tmp);
                }
                // As PyTorch's log_softmax: y = x − (m + log s). m is ±∞ only if x is; then y is NaN as there.
                TensorPrimitives.Subtract(xr, (float)(m + Math.Log(s)), y.Slice(o * axisLen, axisLen));
            }
            return;
        }
        Span<float> mBuf = stackalloc float[Tile];
        Span<float> sBuf = stackalloc float[Tile];
        for (int o = 0; o < outer; o++)
        {
            int baseIdx = o * block;
            for (int j0 = 0; j0 < inner; j0 += Tile)
            {
                int t = Math.Min(Tile, inner - j0);
                var m = mBuf[..t];
                var s = sBuf[..t];
                var tmp = tBuf[..t];
                x.Slice(baseIdx + j0, t).CopyTo(m);
                for (int l = 1; l < axisLen; l++) TensorPrimitives.Max(m, x.Slice(baseIdx + l * inner + j0, t), m);
                s.Clear();
                for (int l = 0; l < axisLen; l++)
                {
                    TensorPrimitives.Subtract(x.Slice(baseIdx + l * inner + j0, t), m, tmp);
                    TensorPrimitives.Exp(tmp, tmp);
                    TensorPrimitives.Add(s, tmp, s);
                }
                TensorPrimitives.Log(s, s);
                TensorPrimitives.Add(s, m, s); // s = m + log Σ e^(x − m)
                for (int l = 0; l < axisLen; l++)
                {
                    int at = baseIdx + l * inner + j0;
                    TensorPrimitives.Subtract(x.Slice(at, t), s, y.Slice(at, t));
                }
            }
        }
    }

    /// <summary>dx = dy − e^y · Σ_axis dy, from the forward output y (e^y is the softmax). dx may alias dy.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LogSoftmaxBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, int outer, int axisLen, int inner, Span<float> dx)
    {
        int block = Check(y.Length, dx.Length, outer, axisLen, inner);
        CheckLength(dy.Length, y.Length);
        if (axisLen == 0 || block == 0) return;
        Span<float> tBuf = stackalloc float[Tile];
        if (inner == 1)
        {
            for (int o = 0; o < outer; o++)
            {
                int at = o * axisLen;
                float s = (float)Summation.Sum(dy.Slice(at, axisLen));
                for (int j0 = 0; j0 < axisLen; j0 += Tile)
                {
                    int t = Math.Min(Tile, axisLen - j0);
                    var tmp = tBuf[..t];
                    TensorPrimitives.Exp(y.Slice(at + j0, t), tmp);
                    TensorPrimitives.MultiplyAdd(tmp, -s, dy.Slice(at + j0, t), dx.Slice(at + j0, t));
                }
            }
            return;
        }
        Span<float> sBuf = stackalloc float[Tile];
        for (int o = 0; o < outer; o++)
        {
            int baseIdx = o * block;
            for (int j0 = 0; j0 < inner; j0 += Tile)
            {
                int t = Math.Min(Tile, inner - j0);
                var s = sBuf[..t];
                var tmp = tBuf[..t];
                s.Clear();
                for (int l = 0; l < axisLen; l++) TensorPrimitives.Add(s, dy.Slice(baseIdx + l * inner + j0, t), s);
                for (int l = 0; l < axisLen; l++)
                {
                    int at = baseIdx + l * inner + j0;
                    TensorPrimitives.Exp(y.Slice(at, t), tmp);
                    TensorPrimitives.Multiply(tmp, s, tmp);
                    TensorPrimitives.Subtract(dy.Slice(at, t), tmp, dx.Slice(at, t));
                }
            }
        }
    }

    private static int Check(int xLen, int yLen, int outer, int axisLen, int inner)
    {
        if (outer < 0 || axisLen < 0 || inner < 0)
            throw new ArgumentException($"Softmax: negative extent [{outer}, {axisLen}, {inner}].");
        long block = (long)axisLen * inner;
        long total = outer * block;
        if (xLen != total || yLen != total)
            throw new ArgumentException($"Softmax: [{outer}, {axisLen}, {inner}] needs {total} elements; got {xLen} in and {yLen} out.");
        return (int)block;
    }

    private static void CheckLength(int dyLen, int yLen)
    {
        if (dyLen != yLen) throw new ArgumentException($"Softmax backward: dy has {dyLen} elements, y has {yLen}.");
    }
}
