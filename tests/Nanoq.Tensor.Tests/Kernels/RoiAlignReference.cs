namespace Nanoq.Tests.Kernels;

/// <summary>
/// A naive RoIAlign written straight from the definition, one output at a time in double: for each bin, average
/// the bilinear samples of a grid of points (torchvision's boundary rules: a point beyond [−1, size] is 0, points in
/// [−1, 0] are clamped to 0, points at or past the last pixel use that pixel). No precomputed tables, no sharing.
/// </summary>
internal static class RoiAlignReference
{
    public static double[] Forward(float[] x, int n, int c, int h, int w, float[] rois, int ph, int pw, float scale, int sampling, bool aligned)
    {
        int k = rois.Length / 5;
        var y = new double[k * c * ph * pw];
        for (int r = 0; r < k; r++)
        {
            var g = Geometry(rois, r, ph, pw, scale, sampling, aligned);
            for (int ch = 0; ch < c; ch++)
                for (int i = 0; i < ph; i++)
                    for (int j = 0; j < pw; j++)
                    {
                        double sum = 0;
                        for (int iy = 0; iy < g.GridH; iy++)
                            for (int ix = 0; ix < g.GridW; ix++)
                            {
                                double yy = g.StartH + i * g.BinH + (iy + 0.5) * g.BinH / g.GridH;
                                double xx = g.StartW + j * g.BinW + (ix + 0.5) * g.BinW / g.GridW;
                                sum += Bilinear(x, ((g.Batch * c) + ch) * h * w, h, w, yy, xx);
                            }
                        y[((r * c + ch) * ph + i) * pw + j] = sum / Math.Max(g.GridH * g.GridW, 1);
                    }
        }
        return y;
    }

    private static double Bilinear(float[] x, int off, int h, int w, double y, double xx)
    {
        if (y < -1 || y > h || xx < -1 || xx > w) return 0;
        y = Math.Max(y, 0);
        xx = Math.Max(xx, 0);
        int y0 = (int)y, x0 = (int)xx;
        int y1 = y0 + 1, x1 = x0 + 1;
        if (y0 >= h - 1) { y0 = y1 = h - 1; y = y0; }
        if (x0 >= w - 1) { x0 = x1 = w - 1; xx = x0; }
        double ly = y - y0, lx = xx - x0;
        return (1 - ly) * (1 - lx) * x[off + y0 * w + x0] + (1 - ly) * lx * x[off + y0 * w + x1]
             + ly * (1 - lx) * x[off + y1 * w + x0] + ly * lx * x[off + y1 * w + x1];
    }

    private readonly record struct Geo(int Batch, double StartH, double StartW, double BinH, double BinW, int GridH, int GridW);

    /// <summary>The per-RoI geometry in float32, as the C++ types it (a double here could move ceil() across an integer).</summary>
    private static Geo Geometry(float[] rois, int r, int ph, int pw, float scale, int sampling, bool aligned)
    {
        float off = aligned ? 0.5f : 0f;
        float sw = rois[5 * r + 1] * scale - off, sh = rois[5 * r + 2] * scale - off;
        float ew = rois[5 * r + 3] * scale - off, eh = rois[5 * r + 4] * scale - off;
        float rw = ew - sw, rh = eh - sh;
        if (!aligned) { rw = MathF.Max(rw, 1); rh = MathF.Max(rh, 1); }
        int gh = sampling > 0 ? sampling : (int)MathF.Ceiling(rh / ph);
        int gw = sampling > 0 ? sampling : (int)MathF.Ceiling(rw / pw);
        return new Geo((int)rois[5 * r], sh, sw, rh / ph, rw / pw, Math.Max(gh, 0), Math.Max(gw, 0));
    }
}
