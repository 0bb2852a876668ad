using Nanoq.Kernels;

namespace Nanoq.Tests.Kernels;

public class SoftmaxTests
{
    // (outer, axisLen, inner): empty, single, odd, contiguous rows, strided axes, and inner > 256 (two tiles).
    public static TheoryData<int, int, int> Extents => new()
    {
        { 0, 3, 2 }, { 2, 0, 3 }, { 1, 1, 1 }, { 3, 1, 5 }, { 1, 17, 1 }, { 4, 33, 1 }, { 2, 256, 1 }, { 1, 300, 1 },
        { 2, 5, 3 }, { 3, 7, 17 }, { 1, 4, 300 }, { 2, 3, 257 }, { 5, 2, 1 },
    };

    private static (double[] Soft, double[] Log) Reference(float[] x, int outer, int len, int inner)
    {
        var soft = new double[x.Length];
        var log = new double[x.Length];
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < inner; j++)
            {
                double m = double.NegativeInfinity, s = 0;
                for (int l = 0; l < len; l++) m = Math.Max(m, x[(o * len + l) * inner + j]);
                for (int l = 0; l < len; l++) s += Math.Exp(x[(o * len + l) * inner + j] - m);
                for (int l = 0; l < len; l++)
                {
                    int i = (o * len + l) * inner + j;
                    soft[i] = Math.Exp(x[i] - m) / s;
                    log[i] = x[i] - m - Math.Log(s);
                }
            }
        return (soft, log);
    }

    [Theory]
    [MemberData(nameof(Extents))]
    public void Forward_and_backward_match_a_double_reference(int outer, int len, int inner)
    {
        var rng = new Rng((ulong)(outer * 1000 + len * 10 + inner));
        int n = outer * len * inner;
        var x = Data.Uniform(rng, n, -5f, 5f);
        var dy = Data.Uniform(rng, n);
        var (soft, log) = Reference(x, outer, len, inner);

        var y = new float[n];
        Softmax.Forward(x, outer, len, inner, y);
        Check.Close(soft, y, 1e-5, 1e-7, "softmax");
        var ly = new float[n];
        Softmax.LogSoftmaxForward(x, outer, len, inner, ly);
        Check.Close(log, ly, 1e-5, 1e-5, "log-softmax");

        // dx = y (dy − Σ dy y) and dx = dy − e^y Σ dy, along the axis.
        var dSoft = new double[n];
        var dLog = new double[n];
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < inner; j++)
            {
                double dot = 0, sum = 0;
                for (int l = 0; l < len; l++) { int i = (o * len + l) * inner + j; dot += dy[i] * (double)y[i]; sum += dy[i]; }
                for (int l = 0; l < len; l++)
                {
                    int i = (o * len + l) * inner + j;
                    dSoft[i] = y[i] * (dy[i] - dot);
                    dLog[i] = dy[i] - Math.Exp(ly[i]) * sum;
                }
            }
        var dx = new float[n];
        Softmax.Backward(y, dy, outer, len, inner, dx);
        Check.Close(dSoft, dx, 1e-4, 1e-6, "softmax backward");
        Softmax.LogSoftmaxBackward(ly, dy, outer, len, inner, dx);
        Check.Close(dLog, dx, 1e-4, 1e-5, "log-softmax backward");

        // Aliasing: y over x, dx over dy.
        var xa = (float[])x.Clone();
        Softmax.LogSoftmaxForward(xa, outer, len, inner, xa);
        Check.Same(ly, xa, "log-softmax in place");
        xa = (float[])x.Clone();
        Softmax.Forward(xa, outer, len, inner, xa);
        Check.Same(y, xa, "softmax in place");
        var g = (float[])dy.Clone();
        Softmax.LogSoftmaxBackward(ly, g, outer, len, inner, g);
        Check.Same(dx, g, "log-softmax backward in place");
    }

    [Fact]
    public void Large_logits_do_not_overflow()
    {
        // e^1000 overflows float and double; after subtracting the max the row is [0, −1, −2].
        float[] x = [1000f, 999f, 998f];
        var y = new float[3];
        Softmax.Forward(x, 1, 3, 1, y);
        double z = 1 + Math.Exp(-1) + Math.Exp(-2);
        Check.Close([1 / z, Math.Exp(-1) / z, Math.Exp(-2) / z], y, 1e-6);
        Softmax.LogSoftmaxForward(x, 1, 3, 1, y);
        Check.Close([1000 - 1000 - Math.Log(z), -1 - Math.Log(z), -2 - Math.Log(z)], y, 1e-5, 1e-4);
    }

    [Fact]
    public void Size_mismatch_throws() =>
        Assert.Throws<ArgumentException>(() => Softmax.Forward(new float[6], 2, 2, 2, new float[6]));
}
