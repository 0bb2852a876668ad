using Nanoq.Kernels;

namespace Nanoq.Tests.Kernels;

/// <summary>
/// The convolution and its two gradients as the plain nested loops of the definition, in double, with each
/// output's error bound (k + 2)·2⁻²³·Σ|terms| for k summed terms.
/// </summary>
internal static class Conv2dReference
{
    private static readonly double Eps = Math.Pow(2, -23);

    /// <summary>Calls <paramref name="visit"/>(xIndex, wIndex, yIndex) for every multiply-add of the convolution.</summary>
    private static void ForEachTerm(in Conv2dGeometry g, Action<int, int, int> visit)
    {
        int cg = g.GroupInChannels, og = g.GroupOutChannels;
        for (int n = 0; n < g.Batch; n++)
            for (int o = 0; o < g.OutChannels; o++)
            {
                int grp = o / og;
                for (int oy = 0; oy < g.OutHeight; oy++)
                    for (int ox = 0; ox < g.OutWidth; ox++)
                    {
                        int yi = ((n * g.OutChannels + o) * g.OutHeight + oy) * g.OutWidth + ox;
                        for (int c = 0; c < cg; c++)
                            for (int ky = 0; ky < g.KernelH; ky++)
                                for (int kx = 0; kx < g.KernelW; kx++)
                                {
                                    int iy = oy * g.StrideH - g.PadH + ky * g.DilationH;
                                    int ix = ox * g.StrideW - g.PadW + kx * g.DilationW;
                                    if (iy < 0 || iy >= g.Height || ix < 0 || ix >= g.Width) continue;
                                    int xi = ((n * g.InChannels + grp * cg + c) * g.Height + iy) * g.Width + ix;
                                    int wi = ((o * cg + c) * g.KernelH + ky) * g.KernelW + kx;
                                    visit(xi, wi, yi);
                                }
                    }
            }
    }

    // The transforms' matrices with their entries' absolute values (Conv2dWinograd's doc has the signed ones).
    private static readonly double[,] AbsBt =
        { { 4, 0, 5, 0, 1, 0 }, { 0, 4, 4, 1, 1, 0 }, { 0, 4, 4, 1, 1, 0 }, { 0, 2, 1, 2, 1, 0 }, { 0, 2, 1, 2, 1, 0 }, { 0, 4, 0, 5, 0, 1 } };
    private static readonly double[,] AbsG =
        { { 1 / 4.0, 0, 0 }, { 1 / 6.0, 1 / 6.0, 1 / 6.0 }, { 1 / 6.0, 1 / 6.0, 1 / 6.0 }, { 1 / 24.0, 1 / 12.0, 1 / 6.0 }, { 1 / 24.0, 1 / 12.0, 1 / 6.0 }, { 0, 0, 1 } };
    private static readonly double[,] AbsAt = { { 1, 1, 1, 1, 1, 0 }, { 0, 1, 1, 2, 2, 0 }, { 0, 1, 1, 4, 4, 0 }, { 0, 1, 1, 8, 8, 1 } };

    /// <summary>|Bᵀ| |d| |B| of tile (ty, tx) of image n, every channel, into v[c, i, j] (d zero outside the image).</summary>
    private static void AbsInput(in Conv2dGeometry g, float[] x, int n, int ty, int tx, double[,,] v)
    {
        for (int c = 0; c < g.InChannels; c++)
            for (int i = 0; i < 6; i++)
                for (int j = 0; j < 6; j++)
                {
                    double sum = 0;
                    for (int r = 0; r < 6; r++)
                        for (int q = 0; q < 6; q++)
                        {
                            int iy = 4 * ty - g.PadH + r, ix = 4 * tx - g.PadW + q;
                            if (iy < 0 || iy >= g.Height || ix < 0 || ix >= g.Width) continue;
                            sum += AbsBt[i, r] * Math.Abs(x[((n * g.InChannels + c) * g.Height + iy) * g.Width + ix]) * AbsBt[j, q];
                        }
                    v[c, i, j] = sum;
                }
    }

    /// <summary>
    /// The extra error bound of a convolution that <see cref="Conv2dWinograd"/> runs: (K + 32) · 2⁻²³ times the
    /// algorithm run on absolute values, |Aᵀ| [Σ_c (|G| |g| |Gᵀ|) ⊙ (|Bᵀ| |d| |B|)] |A| — each stage's rounding error is
    /// at most its own rounding count times the absolute values it combines, carried through the later stages' |·|;
    /// 32 covers the three transforms' depths (6 + 6 + 6 roundings, the constant 1/6's representation, the product) with
    /// room. Zero for a convolution that takes the direct path. <paramref name="w"/> is [Cout, Cin, 3, 3] in
    /// <paramref name="g"/>'s terms.
    /// </summary>
    public static double[] WinogradBound(Conv2dGeometry g, float[] x, float[] w)
    {
        var bound = new double[g.OutputLength];
        if (!Conv2dWinograd.Suits(g)) return bound;
        int cin = g.InChannels, cout = g.OutChannels;
        var u = new double[cout, cin, 6, 6];
        for (int o = 0; o < cout; o++)
            for (int c = 0; c < cin; c++)
                for (int i = 0; i < 6; i++)
                    for (int j = 0; j < 6; j++)
                    {
                        double sum = 0;
                        for (int a = 0; a < 3; a++)
                            for (int b = 0; b < 3; b++)
                                sum += AbsG[i, a] * Math.Abs(w[((o * cin + c) * 3 + a) * 3 + b]) * AbsG[j, b];
                        u[o, c, i, j] = sum;
                    }
        int tilesH = (g.OutHeight + 3) / 4, tilesW = (g.OutWidth + 3) / 4;
        var v = new double[cin, 6, 6];
        for (int n = 0; n < g.Batch; n++)
            for (int ty = 0; ty < tilesH; ty++)
                for (int tx = 0; tx < tilesW; tx++)
                {
                    AbsInput(g, x, n, ty, tx, v);
                    for (int o = 0; o < cout; o++)
                    {
                        var m = new double[6, 6];
                        for (int c = 0; c < cin; c++)
                            for (int i = 0; i < 6; i++)
                                for (int j = 0; j < 6; j++) m[i, j] += u[o, c, i, j] * v[c, i, j];
                        for (int oy = 0; oy < 4; oy++)
                            for (int ox = 0; ox < 4; ox++)
                            {
                                int y = 4 * ty + oy, xo = 4 * tx + ox;
                                if (y >= g.OutHeight || xo >= g.OutWidth) continue;
                                double sum = 0;
                                for (int i = 0; i < 6; i++)
                                    for (int j = 0; j < 6; j++) sum += AbsAt[oy, i] * m[i, j] * AbsAt[ox, j];
                                bound[((n * cout + o) * g.OutHeight + y) * g.OutWidth + xo] = (cin + 32) * Eps * sum;
                            }
                    }
                }
        return bound;
    }

    /// <summary>
    /// The extra error bound of a weight gradient that <see cref="Conv2dWinograd"/> runs: (T + 40) · 2⁻²³ times
    /// |Gᵀ| [Σ_t (|A| |dy_t| |Aᵀ|) ⊙ (|Bᵀ| |d_t| |B|)] |G| for T tiles (the sum over tiles, the chunks' sum and the
    /// transforms' roundings). Zero for a convolution that takes the direct path.
    /// </summary>
    public static double[] WinogradWeightGradientBound(Conv2dGeometry g, float[] x, float[] dy)
    {
        var bound = new double[g.WeightLength];
        if (!Conv2dWinograd.Suits(g)) return bound;
        int cin = g.InChannels, cout = g.OutChannels;
        int tilesH = (g.OutHeight + 3) / 4, tilesW = (g.OutWidth + 3) / 4;
        long tiles = (long)g.Batch * tilesH * tilesW;
        var p = new double[cout, cin, 6, 6];
        var v = new double[cin, 6, 6];
        var u = new double[cout, 6, 6];
        for (int n = 0; n < g.Batch; n++)
            for (int ty = 0; ty < tilesH; ty++)
                for (int tx = 0; tx < tilesW; tx++)
                {
                    AbsInput(g, x, n, ty, tx, v);
                    for (int o = 0; o < cout; o++)
                        for (int i = 0; i < 6; i++)
                            for (int j = 0; j < 6; j++)
                            {
                                double sum = 0;
                                for (int r = 0; r < 4; r++)
                                    for (int q = 0; q < 4; q++)
                                    {
                                        int oy = 4 * ty + r, ox = 4 * tx + q;
                                        if (oy >= g.OutHeight || ox >= g.OutWidth) continue;
                                        sum += AbsAt[r, i] * Math.Abs(dy[((n * cout + o) * g.OutHeight + oy) * g.OutWidth + ox]) * AbsAt[q, j];
                                    }
                                u[o, i, j] = sum;
                            }
                    for (int o = 0; o < cout; o++)
                        for (int c = 0; c < cin; c++)
                            for (int i = 0; i < 6; i++)
                                for (int j = 0; j < 6; j++) p[o, c, i, j] += u[o, i, j] * v[c, i, j];
                }
        for (int o = 0; o < cout; o++)
            for (int c = 0; c < cin; c++)
                for (int ky = 0; ky < 3; ky++)
                    for (int kx = 0; kx < 3; kx++)
                    {
                        double sum = 0;
                        for (int i = 0; i < 6; i++)
                            for (int j = 0; j < 6; j++) sum += AbsG[i, ky] * p[o, c, i, j] * AbsG[j, kx];
                        bound[((o * cin + c) * 3 + ky) * 3 + kx] = (tiles + 40) * Eps * sum;
                    }
        return bound;
    }

    /// <summary>
    /// The stride-1 input gradient as the forward convolution it runs as (dx = conv(dy, rot180(w)ᵀ), padding
    /// k − 1 − pad), with that convolution's flipped weights, for <see cref="WinogradBound"/>.
    /// </summary>
    public static double[] WinogradInputGradientBound(Conv2dGeometry g, float[] dy, float[] w)
    {
        if (g.StrideH != 1 || g.StrideW != 1 || g.KernelH != 3 || g.KernelW != 3 || g.Groups != 1)
            return new double[g.InputLength];
        var t = Conv2dGeometry.Unchecked(g.Batch, g.OutChannels, g.OutHeight, g.OutWidth, g.InChannels, 3, 3, 1, 1,
            g.DilationH * 2 - g.PadH, g.DilationW * 2 - g.PadW, g.DilationH, g.DilationW, 1);
        var flipped = new float[w.Length];
        for (int o = 0; o < g.OutChannels; o++)
            for (int c = 0; c < g.InChannels; c++)
                for (int k = 0; k < 9; k++)
                    flipped[(c * g.OutChannels + o) * 9 + k] = w[(o * g.InChannels + c) * 9 + 8 - k];
        return WinogradBound(t, dy, flipped);
    }

    public static (double[] Value, double[] Bound) Forward(Conv2dGeometry g, float[] x, float[] w, float[]? bias)
    {
        var y = new double[g.OutputLength];
        var abs = new double[y.Length];
        var count = new int[y.Length];
        ForEachTerm(g, (xi, wi, yi) =>
        {
            double t = (double)x[xi] * w[wi];
            y[yi] += t;
            abs[yi] += Math.Abs(t);
            count[yi]++;
        });
        var bound = new double[y.Length];
        int plane = g.OutputPlane;
        for (int i = 0; i < y.Length; i++)
        {
            double b = bias is null ? 0 : bias[i / plane % g.OutChannels];
            y[i] += b;
            bound[i] = (count[i] + 3) * Eps * (abs[i] + Math.Abs(b)) + 1e-30;
        }
        var winograd = WinogradBound(g, x, w);
        for (int i = 0; i < y.Length; i++) bound[i] += winograd[i];
        return (y, bound);
    }

    public static (double[] Value, double[] Bound) BackwardInput(Conv2dGeometry g, float[] dy, float[] w, float[]? initial)
    {
        var dx = new double[g.InputLength];
        var abs = new double[dx.Length];
        var count = new int[dx.Length];
        ForEachTerm(g, (xi, wi, yi) =>
        {
            double t = (double)dy[yi] * w[wi];
            dx[xi] += t;
            abs[xi] += Math.Abs(t);
            count[xi]++;
        });
        var (value, bound) = Finish(dx, abs, count, initial);
        var winograd = WinogradInputGradientBound(g, dy, w);
        for (int i = 0; i < bound.Length; i++) bound[i] += winograd[i];
        return (value, bound);
    }

    public static (double[] Value, double[] Bound) BackwardWeight(Conv2dGeometry g, float[] x, float[] dy, float[]? initial)
    {
        var dw = new double[g.WeightLength];
        var abs = new double[dw.Length];
        var count = new int[dw.Length];
        ForEachTerm(g, (xi, wi, yi) =>
        {
            double t = (double)dy[yi] * x[xi];
            dw[wi] += t;
            abs[wi] += Math.Abs(t);
            count[wi]++;
        });
        var (value, bound) = Finish(dw, abs, count, initial);
        var winograd = WinogradWeightGradientBound(g, x, dy);
        for (int i = 0; i < bound.Length; i++) bound[i] += winograd[i];
        return (value, bound);
    }

    public static (double[] Value, double[] Bound) BackwardBias(Conv2dGeometry g, float[] dy, float[]? initial)
    {
        var db = new double[g.OutChannels];
        var abs = new double[db.Length];
        var count = new int[db.Length];
        int plane = g.OutputPlane;
        for (int i = 0; i < dy.Length; i++)
        {
            int o = i / plane % g.OutChannels;
            db[o] += dy[i];
            abs[o] += Math.Abs(dy[i]);
            count[o]++;
        }
        return Finish(db, abs, count, initial);
    }

    private static (double[] Value, double[] Bound) Finish(double[] v, double[] abs, int[] count, float[]? initial)
    {
        var bound = new double[v.Length];
        for (int i = 0; i < v.Length; i++)
        {
            double init = initial is null ? 0 : initial[i];
            v[i] += init;
            bound[i] = (count[i] + 3) * Eps * (abs[i] + Math.Abs(init)) + 1e-30;
        }
        return (v, bound);
    }
}
