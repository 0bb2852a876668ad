namespace Nanoq.Tests.Ops;

public class LayoutTests
{
    private static float[] NaivePermute(Tensor x, int[] perm)
    {
        var dims = x.Shape.ToArray();
        var outDims = perm.Select(p => dims[p]).ToArray();
        var strides = Data.Strides(dims);
        var y = new float[x.Size];
        for (int i = 0; i < y.Length; i++)
        {
            var idx = Data.Unravel(i, outDims);
            int src = 0;
            for (int a = 0; a < perm.Length; a++) src += idx[a] * strides[perm[a]];
            y[i] = x.Span[src];
        }
        return y;
    }

    [Fact]
    public void Permute_matches_a_naive_gather_for_random_shapes()
    {
        var rng = new Rng(61);
        for (int trial = 0; trial < 200; trial++)
        {
            int rank = rng.NextInt(1, 6);
            var dims = Enumerable.Range(0, rank).Select(_ => rng.NextInt(15) == 0 ? 0 : rng.NextInt(1, 6)).ToArray();
            var perm = rng.Permutation(rank);
            var x = Data.Tensor(rng, dims);
            using var y = Nanoq.Ops.Permute(x, perm);
            Assert.Equal(perm.Select(p => dims[p]).ToArray(), y.Shape.ToArray());
            Check.Same(NaivePermute(x, perm), y.Span, $"{x.Shape} by [{string.Join(",", perm)}]");
        }
    }

    [Theory]
    [InlineData(new[] { 2, 37, 5, 7 }, new[] { 0, 2, 3, 1 })] // NCHW → NHWC
    [InlineData(new[] { 2, 35, 70 }, new[] { 0, 2, 1 })]     // tiles of 32 with ragged edges
    [InlineData(new[] { 70, 65 }, new[] { 1, 0 })]
    [InlineData(new[] { 3, 4, 33, 40 }, new[] { 2, 0, 3, 1 })]
    [InlineData(new[] { 2, 1, 3, 1 }, new[] { 3, 2, 1, 0 })]
    [InlineData(new[] { 3, 4, 5 }, new[] { 1, 0, 2 })]       // last axis stays last: row copies
    [InlineData(new[] { 3, 4, 5 }, new[] { 0, 1, 2 })]       // identity
    public void Permute_larger_cases(int[] dims, int[] perm)
    {
        var x = Data.Tensor(new Rng(62), dims);
        Check.Same(NaivePermute(x, perm), Nanoq.Ops.Permute(x, perm).Span);
    }

    [Fact]
    public void Permute_and_transpose_errors_and_negative_axes()
    {
        var x = Data.Tensor(new Rng(63), 2, 3, 4);
        Assert.Throws<ArgumentException>(() => Nanoq.Ops.Permute(x, 0, 1));
        Assert.Throws<ArgumentException>(() => Nanoq.Ops.Permute(x, 0, 1, 1));
        Assert.Equal(Nanoq.Ops.Permute(x, 0, 2, 1).ToArray(), Nanoq.Ops.Permute(x, 0, -1, -2).ToArray());
        Assert.Equal(Nanoq.Ops.Permute(x, 2, 1, 0).ToArray(), Nanoq.Ops.Transpose(x, 0, -1).ToArray());
        Assert.Equal(new Shape(4, 3, 2), Nanoq.Ops.Transpose(x, 0, 2).Shape);
    }

    [Fact]
    public void Concat_split_and_slice()
    {
        var rng = new Rng(64);
        var a = Data.Tensor(rng, 2, 3, 4);
        var b = Data.Tensor(rng, 2, 1, 4);
        var c = Data.Tensor(rng, 2, 2, 4);
        using var y = Nanoq.Ops.Concat([a, b, c], 1);
        Assert.Equal(new Shape(2, 6, 4), y.Shape);
        for (int n = 0; n < 2; n++)
            for (int i = 0; i < 6; i++)
                for (int j = 0; j < 4; j++)
                    Assert.Equal(i < 3 ? a[n, i, j] : i < 4 ? b[n, i - 3, j] : c[n, i - 4, j], y[n, i, j]);
        var parts = Nanoq.Ops.Split(y, -2, [3, 1, 2]);
        Assert.Equal(a.ToArray(), parts[0].ToArray());
        Assert.Equal(b.ToArray(), parts[1].ToArray());
        Assert.Equal(c.ToArray(), parts[2].ToArray());
        using var s = Nanoq.Ops.SliceAxis(y, 2, 1, 2);
        Assert.Equal(new Shape(2, 6, 2), s.Shape);
        Assert.Equal(y[1, 5, 2], s[1, 5, 1]);
        Assert.Equal(0, Nanoq.Ops.SliceAxis(y, 1, 6, 0).Size);

        var ex = Assert.Throws<ArgumentException>(() => Nanoq.Ops.Concat([a, Tensor.Zeros(3, 3, 4)], 1));
        Assert.Contains("[2, 3, 4]", ex.Message);
        Assert.Contains("[3, 3, 4]", ex.Message);
        Assert.Throws<ArgumentException>(() => Nanoq.Ops.Split(y, 1, [3, 2]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Nanoq.Ops.SliceAxis(y, 1, 5, 2));
        Assert.Throws<ArgumentException>(() => Nanoq.Ops.Concat(Array.Empty<Tensor>(), 0));
    }

    [Fact]
    public void Index_select_and_its_adjoint_index_add()
    {
        var rng = new Rng(65);
        var x = Data.Tensor(rng, 3, 5, 2);
        int[] idx = [4, 0, 4, 2];
        using var y = Nanoq.Ops.IndexSelect(x, 1, idx);
        Assert.Equal(new Shape(3, 4, 2), y.Shape);
        for (int n = 0; n < 3; n++)
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 2; j++)
                    Assert.Equal(x[n, idx[i], j], y[n, i, j]);
        // ⟨select(x), g⟩ = ⟨x, index_add(0, g)⟩ — repeated index 4 accumulates both.
        var g = Data.Tensor(rng, 3, 4, 2);
        var dx = Tensor.Zeros(3, 5, 2);
        Nanoq.Ops.IndexAddInPlace(dx, 1, idx, g);
        Assert.Equal(Data.Dot(y.Span, g.Span), Data.Dot(x.Span, dx.Span), 1e-5);
        Assert.Equal(g[0, 0, 1] + g[0, 2, 1], dx[0, 4, 1], 1e-6f);
        Assert.Equal(0f, dx[2, 1, 0]);

        Assert.Throws<ArgumentOutOfRangeException>(() => Nanoq.Ops.IndexSelect(x, 1, [5]));
        var ex = Assert.Throws<ArgumentException>(() => Nanoq.Ops.IndexAddInPlace(dx, 1, idx, Tensor.Zeros(3, 3, 2)));
        Assert.Contains("[3, 3, 2]", ex.Message);
        Assert.Contains("[3, 5, 2]", ex.Message);
    }

    [Fact]
    public void Pad2d_pads_bottom_right_and_crop_undoes_it()
    {
        var x = Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 1, 1, 2, 3);
        using var y = Nanoq.Ops.Pad2d(x, 1, 2, -1f);
        Assert.Equal(new Shape(1, 1, 3, 5), y.Shape);
        Assert.Equal([1f, 2f, 3f, -1f, -1f, 4f, 5f, 6f, -1f, -1f, -1f, -1f, -1f, -1f, -1f], y.ToArray());
        Assert.Equal(x.ToArray(), Nanoq.Ops.Crop2d(y, 2, 3).ToArray());
        Assert.Equal(x.ToArray(), Nanoq.Ops.Pad2d(x, 0, 0).ToArray());
        Assert.Throws<ArgumentException>(() => Nanoq.Ops.Pad2d(x, -1, 0));
        Assert.Throws<ArgumentException>(() => Nanoq.Ops.Crop2d(x, 3, 1));
    }
}
