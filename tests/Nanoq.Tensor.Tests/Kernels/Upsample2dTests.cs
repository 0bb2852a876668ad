using Nanoq.Kernels;

namespace Nanoq.Tests.Kernels;

public class Upsample2dTests
{
    [Theory]
    [InlineData(1, 1, 1, 1, 1)]
    [InlineData(2, 3, 4, 5, 2)]
    [InlineData(1, 2, 3, 7, 3)]
    [InlineData(0, 2, 3, 3, 2)]
    [InlineData(4, 32, 9, 9, 2)] // parallel path
    public void Integer_scale_matches_a_naive_loop(int n, int c, int h, int w, int s)
    {
        var rng = new Rng(11);
        var x = Data.Uniform(rng, n * c * h * w);
        int oh = h * s, ow = w * s;
        var y = new float[n * c * oh * ow];
        Upsample2d.NearestForward(x, n, c, h, w, s, y);
        var dy = Data.Uniform(rng, y.Length);
        var dxRef = new double[x.Length];
        for (int p = 0; p < n * c; p++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                {
                    Assert.Equal(x[p * h * w + i / s * w + j / s], y[(p * oh + i) * ow + j]);
                    dxRef[p * h * w + i / s * w + j / s] += dy[(p * oh + i) * ow + j];
                }
        var dx = Data.Uniform(rng, x.Length);
        Upsample2d.NearestBackward(dy, n, c, h, w, s, dx);
        Check.Close(dxRef, dx, 1e-5, 1e-6);
    }

    [Fact]
    public void Source_index_follows_pytorch_nearest()
    {
        // in 3 → out 7: scale = 3/7 = 0.428571f; ⌊dst · scale⌋ = 0, 0, 0, 1, 1, 2, 2.
        Assert.Equal([0, 0, 0, 1, 1, 2, 2], Enumerable.Range(0, 7).Select(d => Upsample2d.SourceIndex(d, 3, 7)));
        // in 5 → out 3 (downsampling): scale = 5/3; ⌊0⌋, ⌊1.67⌋, ⌊3.33⌋ = 0, 1, 3.
        Assert.Equal([0, 1, 3], Enumerable.Range(0, 3).Select(d => Upsample2d.SourceIndex(d, 5, 3)));
        // out = 2·in is dst / 2; out = in is the identity.
        Assert.Equal([0, 0, 1, 1, 2, 2], Enumerable.Range(0, 6).Select(d => Upsample2d.SourceIndex(d, 3, 6)));
        Assert.Equal([0, 1, 2, 3], Enumerable.Range(0, 4).Select(d => Upsample2d.SourceIndex(d, 4, 4)));
    }

    [Theory]
    [InlineData(2, 3, 3, 4, 7, 9)]
    [InlineData(1, 2, 5, 5, 3, 2)]
    [InlineData(1, 1, 4, 4, 8, 8)]
    [InlineData(2, 2, 7, 6, 7, 6)]
    [InlineData(2, 40, 8, 8, 13, 11)] // parallel path
    public void Explicit_size_matches_a_naive_loop_and_backward_is_the_adjoint(int n, int c, int h, int w, int oh, int ow)
    {
        var rng = new Rng(12);
        var x = Data.Uniform(rng, n * c * h * w);
        var y = new float[n * c * oh * ow];
        Upsample2d.NearestForward(x, n, c, h, w, oh, ow, y);
        var dy = Data.Uniform(rng, y.Length);
        var dxRef = new double[x.Length];
        for (int p = 0; p < n * c; p++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                {
                    int si = Math.Min((int)Math.Floor(i * ((float)h / oh)), h - 1), sj = Math.Min((int)Math.Floor(j * ((float)w / ow)), w - 1);
                    if (oh == 2 * h) si = i / 2;
                    if (ow == 2 * w) sj = j / 2;
                    Assert.Equal(x[p * h * w + si * w + sj], y[(p * oh + i) * ow + j]);
                    dxRef[p * h * w + si * w + sj] += dy[(p * oh + i) * ow + j];
                }
        var dx = Data.Uniform(rng, x.Length);
        Upsample2d.NearestBackward(dy, n, c, h, w, oh, ow, dx);
        Check.Close(dxRef, dx, 1e-5, 1e-6);
        // ⟨up(x), dy⟩ = ⟨x, up*(dy)⟩
        Assert.Equal(Data.Dot(y, dy), Data.Dot(x, dx), 1e-3);
    }

    [Fact]
    public void Integer_scale_equals_explicit_size()
    {
        var rng = new Rng(13);
        var x = Data.Uniform(rng, 2 * 3 * 5 * 4);
        var a = new float[2 * 3 * 10 * 8];
        var b = new float[a.Length];
        Upsample2d.NearestForward(x, 2, 3, 5, 4, 2, a);
        Upsample2d.NearestForward(x, 2, 3, 5, 4, 10, 8, b);
        Check.Same(a, b);
    }
}
