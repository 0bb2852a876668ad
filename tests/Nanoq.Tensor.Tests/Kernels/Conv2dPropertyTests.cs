using FsCheck.Xunit;
using Nanoq.Kernels;

namespace Nanoq.Tests.Kernels;

public class Conv2dPropertyTests
{
    /// <summary>A random small geometry (any stride, padding, dilation, groups, depthwise included) from a seed.</summary>
    private static Conv2dGeometry RandomGeometry(Random r)
    {
        int groups = r.Next(1, 4);
        int cin = groups * r.Next(1, 4);
        int cout = r.Next(2) == 0 ? cin : groups * r.Next(1, 4);
        int kh = r.Next(1, 4), kw = r.Next(1, 4);
        int sh = r.Next(1, 4), sw = r.Next(1, 4);
        int dh = r.Next(1, 3), dw = r.Next(1, 3);
        int ph = r.Next(0, 3), pw = r.Next(0, 3);
        int h = Math.Max(1, dh * (kh - 1) + 1 - 2 * ph + r.Next(0, 8));
        int w = Math.Max(1, dw * (kw - 1) + 1 - 2 * pw + r.Next(0, 8));
        return new Conv2dGeometry(r.Next(1, 3), cin, h, w, cout, kh, kw, sh, sw, ph, pw, dh, dw, groups);
    }

    private static double Dot(float[] a, float[] b, out double magnitude)
    {
        double s = 0;
        magnitude = 0;
        for (int i = 0; i < a.Length; i++)
        {
            s += (double)a[i] * b[i];
            magnitude += Math.Abs((double)a[i] * b[i]);
        }
        return s;
    }

    /// <summary>
    /// The input gradient is the adjoint of the convolution: ⟨conv(x, w), g⟩ = ⟨x, convBackwardInput(g, w)⟩,
    /// and the weight gradient the adjoint in w: ⟨conv(x, w), g⟩ = ⟨w, convBackwardWeight(x, g)⟩.
    /// </summary>
    [Property(MaxTest = 60)]
    public bool Gradients_are_adjoint_to_the_forward(int seed)
    {
        var r = new Random(seed);
        var g = RandomGeometry(r);
        var x = GemmReference.Random(r, g.InputLength);
        var w = GemmReference.Random(r, g.WeightLength);
        var grad = GemmReference.Random(r, g.OutputLength);
        var y = new float[g.OutputLength];
        var dx = new float[g.InputLength];
        var dw = new float[g.WeightLength];
        Conv2dKernels.Conv2dForward(g, x, w, default, y);
        Conv2dKernels.Conv2dBackwardInput(g, grad, w, dx);
        Conv2dKernels.Conv2dBackwardWeight(g, x, grad, dw, default);
        double lhs = Dot(y, grad, out double m1);
        double viaX = Dot(x, dx, out double m2);
        double viaW = Dot(w, dw, out double m3);
        double tol = 1e-5 * (m1 + m2 + m3) + 1e-9;
        return Math.Abs(lhs - viaX) <= tol && Math.Abs(lhs - viaW) <= tol;
    }

    /// <summary>
    /// A kernel that is 1 at its centre tap on the diagonal of each group (and 0 elsewhere), with padding that keeps
    /// the size, reproduces its input exactly — 1×1 or odd k×k, any dilation, any groups.
    /// </summary>
    [Property(MaxTest = 40)]
    public bool Identity_kernel_is_the_identity(int seed)
    {
        var r = new Random(seed);
        int groups = r.Next(1, 4), c = groups * r.Next(1, 4);
        int k = 2 * r.Next(0, 3) + 1, d = r.Next(1, 3);
        int h = r.Next(1, 12), wd = r.Next(1, 12);
        var g = new Conv2dGeometry(r.Next(1, 3), c, h, wd, c, k, stride: 1, padding: d * (k - 1) / 2, dilation: d, groups: groups);
        var w = new float[g.WeightLength];
        int cg = c / groups, taps = k * k;
        for (int o = 0; o < c; o++) w[(o * cg + o % cg) * taps + taps / 2] = 1f;
        var x = GemmReference.Random(r, g.InputLength);
        var y = new float[g.OutputLength];
        Conv2dKernels.Conv2dForward(g, x, w, default, y);
        return x.AsSpan().SequenceEqual(y);
    }
}
