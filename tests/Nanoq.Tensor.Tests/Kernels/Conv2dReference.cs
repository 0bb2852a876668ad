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
        return Finish(dx, abs, count, initial);
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
        return Finish(dw, abs, count, initial);
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
