using Nanoq.Kernels;

namespace Nanoq.Tests.Kernels;

public class BatchNorm2dTests
{
    /// <summary>Double-precision training-mode batch norm: y, mean, biased var.</summary>
    private static (double[] Y, double[] Mean, double[] Var) Reference(float[] x, int n, int c, int hw, float[]? gamma, float[]? beta, double eps)
    {
        var y = new double[x.Length];
        var mean = new double[c];
        var var = new double[c];
        int m = n * hw;
        for (int ch = 0; ch < c; ch++)
        {
            double s = 0;
            for (int b = 0; b < n; b++) for (int i = 0; i < hw; i++) s += x[(b * c + ch) * hw + i];
            mean[ch] = s / m;
            double q = 0;
            for (int b = 0; b < n; b++) for (int i = 0; i < hw; i++) { double d = x[(b * c + ch) * hw + i] - mean[ch]; q += d * d; }
            var[ch] = q / m;
            double inv = 1 / Math.Sqrt(var[ch] + eps);
            for (int b = 0; b < n; b++)
                for (int i = 0; i < hw; i++)
                {
                    int at = (b * c + ch) * hw + i;
                    y[at] = (gamma?[ch] ?? 1.0) * (x[at] - mean[ch]) * inv + (beta?[ch] ?? 0.0);
                }
        }
        return (y, mean, var);
    }

    /// <summary>Standard BN backward in double: dx = γ invstd / m (m dy − Σdy − x̂ Σ dy x̂).</summary>
    private static (double[] Dx, double[] Dg, double[] Db) ReferenceBackward(float[] dy, float[] x, int n, int c, int hw, float[]? gamma, double eps)
    {
        var (_, mean, var) = Reference(x, n, c, hw, null, null, eps);
        var dx = new double[x.Length];
        var dg = new double[c];
        var db = new double[c];
        int m = n * hw;
        for (int ch = 0; ch < c; ch++)
        {
            double inv = 1 / Math.Sqrt(var[ch] + eps);
            for (int b = 0; b < n; b++)
                for (int i = 0; i < hw; i++)
                {
                    int at = (b * c + ch) * hw + i;
                    db[ch] += dy[at];
                    dg[ch] += dy[at] * (x[at] - mean[ch]) * inv;
                }
            double g = gamma?[ch] ?? 1.0;
            for (int b = 0; b < n; b++)
                for (int i = 0; i < hw; i++)
                {
                    int at = (b * c + ch) * hw + i;
                    double xhat = (x[at] - mean[ch]) * inv;
                    dx[at] = g * inv / m * (m * dy[at] - db[ch] - xhat * dg[ch]);
                }
        }
        return (dx, dg, db);
    }

    [Theory]
    [InlineData(2, 3, 5, true)]
    [InlineData(1, 4, 17, true)]
    [InlineData(5, 2, 1, false)] // BatchNorm1d shape, affine = false
    [InlineData(3, 1, 33, true)]
    [InlineData(4, 64, 256, true)] // parallel over channels
    public void Training_forward_and_backward_match_double_references(int n, int c, int hw, bool affine)
    {
        var rng = new Rng((ulong)(n * 100 + c * 10 + hw));
        var x = Data.Uniform(rng, n * c * hw, -1f, 3f);
        float[]? gamma = affine ? Data.Uniform(rng, c, 0.5f, 1.5f) : null;
        float[]? beta = affine ? Data.Uniform(rng, c) : null;
        const float eps = 1e-5f, momentum = 0.1f;
        var rm = Data.Uniform(rng, c);
        var rv = Data.Uniform(rng, c, 0.5f, 2f);
        var rm0 = (float[])rm.Clone();
        var rv0 = (float[])rv.Clone();
        var y = new float[x.Length];
        var mean = new float[c];
        var invstd = new float[c];
        BatchNorm2d.ForwardTraining(x, n, c, hw, gamma, beta, eps, momentum, rm, rv, y, mean, invstd);

        var (yRef, meanRef, varRef) = Reference(x, n, c, hw, gamma, beta, eps);
        Check.Close(yRef, y, 1e-5, 1e-5, "y");
        Check.Close(meanRef, mean, 1e-6, 1e-7, "mean");
        Check.Close(varRef.Select(v => 1 / Math.Sqrt(v + eps)).ToArray(), invstd, 1e-6, 0, "invstd");
        int m = n * hw;
        Check.Close(rm0.Select((r, i) => 0.9 * r + 0.1 * meanRef[i]).ToArray(), rm, 1e-6, 1e-7, "running_mean");
        Check.Close(rv0.Select((r, i) => 0.9 * r + 0.1 * varRef[i] * m / (m - 1)).ToArray(), rv, 1e-6, 1e-7, "running_var (unbiased)");

        var dy = Data.Uniform(rng, x.Length);
        var dx = new float[x.Length];
        var dg = new float[affine ? c : 0];
        var db = new float[affine ? c : 0];
        BatchNorm2d.Backward(dy, x, n, c, hw, gamma, mean, invstd, dx, dg, db);
        var (dxRef, dgRef, dbRef) = ReferenceBackward(dy, x, n, c, hw, gamma, eps);
        Check.Close(dxRef, dx, 1e-4, 1e-5, "dx");
        if (affine)
        {
            Check.Close(dgRef, dg, 1e-5, 1e-5, "dgamma");
            Check.Close(dbRef, db, 1e-5, 1e-5, "dbeta");
        }
        // dx may alias dy.
        BatchNorm2d.Backward(dy, x, n, c, hw, gamma, mean, invstd, dy, default, default);
        Check.Same(dx, dy, "aliased dx");
    }

    [Fact]
    public void Reference_backward_agrees_with_central_differences()
    {
        // Guards the formula the kernel is checked against: L = Σ g ⊙ y(x, γ, β), differentiated numerically in double.
        var rng = new Rng(21);
        int n = 2, c = 2, hw = 3;
        var x = Data.Uniform(rng, n * c * hw);
        var gamma = Data.Uniform(rng, c, 0.5f, 1.5f);
        var beta = Data.Uniform(rng, c);
        var g = Data.Uniform(rng, x.Length);
        const double eps = 1e-5;
        var (dx, dgam, _) = ReferenceBackward(g, x, n, c, hw, gamma, eps);
        double Loss(float[] xx, float[] gg) => Reference(xx, n, c, hw, gg, beta, eps).Y.Select((v, i) => v * g[i]).Sum();
        const float h = 1e-2f;
        for (int i = 0; i < x.Length; i++)
        {
            var xp = (float[])x.Clone(); xp[i] += h;
            var xm = (float[])x.Clone(); xm[i] -= h;
            double numeric = (Loss(xp, gamma) - Loss(xm, gamma)) / (xp[i] - xm[i]);
            Assert.Equal(dx[i], numeric, 2e-3);
        }
        for (int ch = 0; ch < c; ch++)
        {
            var gp = (float[])gamma.Clone(); gp[ch] += h;
            var gm = (float[])gamma.Clone(); gm[ch] -= h;
            Assert.Equal(dgam[ch], (Loss(x, gp) - Loss(x, gm)) / (gp[ch] - gm[ch]), 1e-4);
        }
    }

    [Fact]
    public void Statistics_stay_accurate_with_a_large_offset_and_many_values()
    {
        // 1000 ± 0.01 over 2·1·40000 values: a naive float Σx² − (Σx)² would lose the variance entirely.
        var rng = new Rng(22);
        int n = 2, c = 1, hw = 40000;
        var x = Data.Uniform(rng, n * hw, -0.01f, 0.01f).Select(v => 1000f + v).ToArray();
        var (_, meanRef, varRef) = Reference(x, n, c, hw, null, null, 0);
        var y = new float[x.Length];
        var mean = new float[1];
        var invstd = new float[1];
        BatchNorm2d.ForwardTraining(x, n, c, hw, default, default, 0f, 0.1f, default, default, y, mean, invstd);
        Assert.Equal(meanRef[0], mean[0], 1e-4);
        Assert.Equal(1 / Math.Sqrt(varRef[0]), invstd[0], 1e-3 / Math.Sqrt(varRef[0]));
        // Normalized output: mean 0, variance 1.
        Assert.Equal(0, y.Select(v => (double)v).Average(), 1e-3);
        Assert.Equal(1, y.Select(v => (double)v * v).Average(), 1e-2);
    }

    [Fact]
    public void Eval_uses_running_statistics_and_its_backward_is_affine()
    {
        var rng = new Rng(23);
        int n = 3, c = 2, hw = 4;
        var x = Data.Uniform(rng, n * c * hw);
        float[] gamma = [2f, 0.5f], beta = [1f, -1f], rm = [0.5f, -0.25f], rv = [4f, 0.25f];
        var y = new float[x.Length];
        BatchNorm2d.ForwardEval(x, n, c, hw, gamma, beta, rm, rv, 0f, y);
        for (int i = 0; i < x.Length; i++)
        {
            int ch = i / hw % c;
            Assert.Equal(gamma[ch] * (x[i] - rm[ch]) / Math.Sqrt(rv[ch]) + beta[ch], y[i], 1e-5);
        }
        var dy = Data.Uniform(rng, x.Length);
        var dx = new float[x.Length];
        var dg = new float[c];
        var db = new float[c];
        BatchNorm2d.BackwardEval(dy, x, n, c, hw, gamma, rm, rv, 0f, dx, dg, db);
        for (int ch = 0; ch < c; ch++)
        {
            double sg = 0, sb = 0;
            for (int i = 0; i < x.Length; i++)
            {
                if (i / hw % c != ch) continue;
                Assert.Equal(dy[i] * gamma[ch] / Math.Sqrt(rv[ch]), dx[i], 1e-5);
                sb += dy[i];
                sg += dy[i] * (x[i] - rm[ch]) / Math.Sqrt(rv[ch]);
            }
            Assert.Equal(sg, dg[ch], 1e-5);
            Assert.Equal(sb, db[ch], 1e-5);
        }
    }

    [Fact]
    public void One_value_per_channel_cannot_train()
    {
        var ex = Assert.Throws<ArgumentException>(() => BatchNorm2d.ForwardTraining(new float[3], 1, 3, 1, default, default, 1e-5f, 0.1f,
            default, default, new float[3], new float[3], new float[3]));
        Assert.Contains("more than 1 value per channel", ex.Message);
    }
}
