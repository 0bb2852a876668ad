using Nanoq.Kernels;

namespace Nanoq.Tests.Kernels;

public class Pooling2dTests
{
    // (n, c, h, w, kernel, stride, pad)
    public static TheoryData<int, int, int, int, int, int, int> Configs => new()
    {
        { 1, 1, 1, 1, 1, 1, 0 }, { 2, 3, 5, 7, 2, 2, 0 }, { 1, 2, 7, 5, 3, 2, 1 }, { 2, 2, 6, 6, 3, 1, 1 },
        { 1, 3, 9, 4, 2, 1, 1 }, { 3, 1, 8, 9, 3, 3, 0 }, { 1, 1, 4, 4, 4, 1, 2 }, { 2, 1, 11, 3, 1, 2, 0 },
        { 0, 3, 4, 4, 2, 2, 0 }, { 4, 64, 16, 16, 3, 2, 1 }, // many planes: the parallel path
        { 1, 2, 1, 1, 1, 2, 0 }, { 1, 1, 3, 2, 3, 3, 1 }, { 2, 2, 9, 27, 3, 2, 1 }, { 1, 1, 5, 40, 2, 3, 1 },
        { 1, 1, 6, 6, 5, 2, 2 }, { 1, 1, 3, 33, 1, 1, 0 }, // odd widths across vector boundaries, stride 3, wide kernels
    };

    private static int O(int size, int k, int s, int p) => (size + 2 * p - k) / s + 1;

    [Theory]
    [MemberData(nameof(Configs))]
    public void Max_pool_matches_a_naive_loop(int n, int c, int h, int w, int k, int s, int p)
    {
        var rng = new Rng(3);
        var x = Data.SmallInts(rng, n * c * h * w); // small integers: many ties
        int oh = O(h, k, s, p), ow = O(w, k, s, p);
        var y = new float[n * c * oh * ow];
        var arg = new int[y.Length];
        Pooling2d.MaxPool2dForward(x, n, c, h, w, k, s, p, y, arg);

        var dy = Data.Uniform(rng, y.Length);
        var dxRef = new double[x.Length];
        for (int plane = 0; plane < n * c; plane++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                {
                    float best = float.NegativeInfinity;
                    int bi = -1;
                    for (int ky = 0; ky < k; ky++)
                        for (int kx = 0; kx < k; kx++)
                        {
                            int iy = oy * s - p + ky, ix = ox * s - p + kx;
                            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                            float v = x[plane * h * w + iy * w + ix];
                            if (bi < 0 || v > best) { best = v; bi = iy * w + ix; } // first max wins
                        }
                    int o = (plane * oh + oy) * ow + ox;
                    Assert.Equal(best, y[o]);
                    Assert.Equal(bi, arg[o]);
                    dxRef[plane * h * w + bi] += dy[o];
                }

        var dx = Data.Uniform(rng, x.Length); // garbage: backward must overwrite
        Pooling2d.MaxPool2dBackward(dy, arg, n, c, h, w, k, s, p, dx);
        Check.Close(dxRef, dx, 1e-6, 1e-6, "max pool backward");
    }

    [Theory]
    [MemberData(nameof(Configs))]
    public void Avg_pool_matches_a_naive_loop(int n, int c, int h, int w, int k, int s, int p)
    {
        var rng = new Rng(4);
        var x = Data.Uniform(rng, n * c * h * w);
        int oh = O(h, k, s, p), ow = O(w, k, s, p);
        var y = new float[n * c * oh * ow];
        Pooling2d.AvgPool2dForward(x, n, c, h, w, k, s, p, y);
        var dy = Data.Uniform(rng, y.Length);
        var yRef = new double[y.Length];
        var dxRef = new double[x.Length];
        for (int plane = 0; plane < n * c; plane++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                {
                    int o = (plane * oh + oy) * ow + ox;
                    for (int ky = 0; ky < k; ky++)
                        for (int kx = 0; kx < k; kx++)
                        {
                            int iy = oy * s - p + ky, ix = ox * s - p + kx;
                            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue; // padding adds 0 but still counts
                            yRef[o] += x[plane * h * w + iy * w + ix] / (double)(k * k);
                            dxRef[plane * h * w + iy * w + ix] += dy[o] / (double)(k * k);
                        }
                }
        Check.Close(yRef, y, 1e-5, 1e-6, "avg pool");
        var dx = Data.Uniform(rng, x.Length);
        Pooling2d.AvgPool2dBackward(dy, n, c, h, w, k, s, p, dx);
        Check.Close(dxRef, dx, 1e-5, 1e-6, "avg pool backward");
    }

    [Fact]
    public void Avg_pool_counts_padding_in_the_divisor()
    {
        // 2×2 ones, kernel 3, pad 1, stride 1: the top-left window holds 4 ones and 5 padding zeros → 4/9.
        var y = new float[4];
        Pooling2d.AvgPool2dForward([1, 1, 1, 1], 1, 1, 2, 2, 3, 1, 1, y);
        Assert.All(y, v => Assert.Equal(4f / 9f, v, 1e-6f));
    }

    [Fact]
    public void Max_pool_padding_is_minus_infinity_and_nan_wins()
    {
        // All-negative input with padding: padding must not win (it is −∞, not 0).
        var y = new float[4];
        var arg = new int[4];
        Pooling2d.MaxPool2dForward([-5, -3, -4, -2], 1, 1, 2, 2, 3, 1, 1, y, arg);
        Assert.Equal([-2f, -2f, -2f, -2f], y);
        Assert.Equal([3, 3, 3, 3], arg);
        // A window of −∞ keeps the index of its first real element; NaN propagates as in PyTorch.
        Pooling2d.MaxPool2dForward([float.NegativeInfinity, float.NegativeInfinity, 1, float.NaN], 1, 1, 2, 2, 1, 1, 0, y, arg);
        Assert.Equal(0, arg[0]);
        Assert.True(float.IsNaN(y[3]));
        var y1 = new float[1];
        var a1 = new int[1];
        Pooling2d.MaxPool2dForward([1, float.NaN, 5, 2], 1, 1, 2, 2, 2, 2, 0, y1, a1);
        Assert.True(float.IsNaN(y1[0]));
        Assert.Equal(1, a1[0]);
    }

    [Fact]
    public void Global_avg_pool_is_the_plane_mean_and_spreads_back_evenly()
    {
        var rng = new Rng(5);
        int n = 2, c = 3, h = 5, w = 7;
        var x = Data.Uniform(rng, n * c * h * w);
        var y = new float[n * c];
        Pooling2d.GlobalAvgPoolForward(x, n, c, h, w, y);
        for (int p = 0; p < n * c; p++)
            Assert.Equal(x.Skip(p * h * w).Take(h * w).Select(v => (double)v).Average(), y[p], 1e-6);
        var dx = new float[x.Length];
        Pooling2d.GlobalAvgPoolBackward([1, 2, 3, 4, 5, 35], n, c, h, w, dx);
        Assert.Equal(1f / 35, dx[0], 1e-7f);
        Assert.Equal(1f, dx[^1], 1e-6f);
    }

    [Fact]
    public void Parallel_results_are_deterministic()
    {
        var rng = new Rng(6);
        int n = 8, c = 32, h = 20, w = 20;
        var x = Data.Uniform(rng, n * c * h * w);
        int o = O(h, 3, 2, 1);
        var y1 = new float[n * c * o * o];
        var y2 = new float[y1.Length];
        var a = new int[y1.Length];
        Pooling2d.AvgPool2dForward(x, n, c, h, w, 3, 2, 1, y1);
        Pooling2d.AvgPool2dForward(x, n, c, h, w, 3, 2, 1, y2);
        Check.Same(y1, y2);
        Pooling2d.MaxPool2dForward(x, n, c, h, w, 3, 2, 1, y1, a);
        Pooling2d.MaxPool2dForward(x, n, c, h, w, 3, 2, 1, y2, a);
        Check.Same(y1, y2);
    }

    [Fact]
    public void Invalid_geometry_throws()
    {
        Assert.Equal(56, Pooling2d.OutputSize(112, 3, 2, 1)); // ResNet stem: (112 + 2 − 3) / 2 + 1
        Assert.Throws<ArgumentException>(() => Pooling2d.OutputSize(8, 3, 1, 2)); // pad > kernel / 2
        Assert.Throws<ArgumentException>(() => Pooling2d.OutputSize(1, 3, 1, 0)); // input smaller than kernel
        Assert.Throws<ArgumentException>(() => Pooling2d.OutputSize(8, 2, 0, 0));
        Assert.Throws<ArgumentException>(() => Pooling2d.MaxPool2dForward(new float[16], 1, 1, 4, 4, 2, 2, 0, new float[3], new int[4]));
    }
}
