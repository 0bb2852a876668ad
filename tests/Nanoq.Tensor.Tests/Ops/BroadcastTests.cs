namespace Nanoq.Tests.Ops;

public class BroadcastTests
{
    [Theory]
    [InlineData(new[] { 2, 3 }, new[] { 3 }, new[] { 2, 3 })]
    [InlineData(new[] { 4, 1, 3 }, new[] { 5, 1 }, new[] { 4, 5, 3 })]
    [InlineData(new int[0], new[] { 2 }, new[] { 2 })]
    [InlineData(new[] { 0 }, new[] { 1 }, new[] { 0 })]
    [InlineData(new[] { 1, 1 }, new[] { 1 }, new[] { 1, 1 })]
    [InlineData(new[] { 8, 1, 6, 1 }, new[] { 7, 1, 5 }, new[] { 8, 7, 6, 5 })] // NumPy's documentation example
    public void Broadcast_shape_follows_numpy(int[] a, int[] b, int[] expected)
    {
        Assert.Equal(new Shape(expected), Nanoq.Ops.BroadcastShape(new Shape(a), new Shape(b)));
        Assert.Equal(new Shape(expected), Nanoq.Ops.BroadcastShape(new Shape(b), new Shape(a)));
    }

    [Fact]
    public void Incompatible_shapes_name_both_shapes()
    {
        var ex = Assert.Throws<ArgumentException>(() => Nanoq.Ops.Add(Tensor.Zeros(2, 3), Tensor.Zeros(3, 2)));
        Assert.Contains("[2, 3]", ex.Message);
        Assert.Contains("[3, 2]", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => Nanoq.Ops.BroadcastShape(new Shape(0), new Shape(3)));
        Assert.Contains("[0]", ex.Message);
        Assert.Contains("[3]", ex.Message);
    }

    private static readonly (string Name, Func<Tensor, Tensor, Tensor> Op, Func<double, double, double> Ref)[] BinaryOps =
    [
        ("Add", Nanoq.Ops.Add, (a, b) => a + b),
        ("Sub", Nanoq.Ops.Sub, (a, b) => a - b),
        ("Mul", Nanoq.Ops.Mul, (a, b) => a * b),
        ("Div", Nanoq.Ops.Div, (a, b) => (float)a / (float)b),
        ("Maximum", Nanoq.Ops.Maximum, Math.Max),
        ("Minimum", Nanoq.Ops.Minimum, Math.Min),
    ];

    private static void CheckAll(Tensor a, Tensor b, string label)
    {
        var outDims = Nanoq.Ops.BroadcastShape(a.Shape, b.Shape).ToArray();
        foreach (var (name, op, f) in BinaryOps)
        {
            using var y = op(a, b);
            Assert.Equal(new Shape(outDims), y.Shape);
            Check.Close(Naive.Binary(a, b, outDims, f), y.Span, 1e-6, 1e-6, $"{name} {a.Shape} ⊕ {b.Shape} ({label})");
        }
    }

    [Fact]
    public void Same_shape_for_every_length_up_to_256()
    {
        var rng = new Rng(31);
        for (int n = 0; n <= 256; n++) CheckAll(Data.Tensor(rng, n), Data.Tensor(rng, n), "same");
    }

    [Fact]
    public void Fast_path_broadcasts()
    {
        var rng = new Rng(32);
        CheckAll(Data.Tensor(rng, 3, 5), Tensor.Scalar(1.5f), "scalar");
        CheckAll(Tensor.Scalar(-0.5f), Data.Tensor(rng, 4, 7), "scalar first");
        CheckAll(Data.Tensor(rng, 6, 17), Data.Tensor(rng, 17), "row");
        CheckAll(Data.Tensor(rng, 2, 3, 5, 7), Data.Tensor(rng, 1, 3, 1, 1), "channel");
        CheckAll(Data.Tensor(rng, 3, 1, 1), Data.Tensor(rng, 2, 3, 4, 5), "channel first");
        CheckAll(Data.Tensor(rng, 5, 1), Data.Tensor(rng, 1, 6), "outer product");
        CheckAll(Data.Tensor(rng, 1), Data.Tensor(rng, 2, 1, 3), "size-1 rank-1");
        CheckAll(Data.Tensor(rng, 0, 3), Data.Tensor(rng, 3), "empty");
    }

    [Fact]
    public void Random_shapes_up_to_rank_6_including_rank_mismatch_and_zero()
    {
        var rng = new Rng(33);
        for (int trial = 0; trial < 300; trial++)
        {
            int rank = rng.NextInt(0, 7);
            var outDims = new int[rank];
            for (int i = 0; i < rank; i++) outDims[i] = rng.NextInt(10) == 0 ? 0 : rng.NextInt(1, 5);
            int[] Derive()
            {
                int drop = rng.NextInt(0, rank + 1);
                return outDims.Skip(drop).Select(d => rng.NextInt(3) == 0 ? 1 : d).ToArray();
            }
            var ad = Derive();
            var bd = Derive();
            // Make sure the result really is outDims-compatible (a 0 dim only pairs with 0 or 1).
            CheckAll(Data.Tensor(rng, ad), Data.Tensor(rng, bd), $"trial {trial}");
        }
    }

    [Fact]
    public void In_place_ops_broadcast_the_source()
    {
        var rng = new Rng(34);
        var dst = Data.Tensor(rng, 2, 3, 4);
        var src = Data.Tensor(rng, 3, 1);
        var expected = Naive.Binary(dst, src, [2, 3, 4], (a, b) => a + b);
        Nanoq.Ops.AddInPlace(dst, src);
        Check.Close(expected, dst.Span, 1e-6);
        expected = Naive.Binary(dst, src, [2, 3, 4], (a, b) => a - b);
        Nanoq.Ops.SubInPlace(dst, src);
        Check.Close(expected, dst.Span, 1e-6);
        expected = Naive.Binary(dst, src, [2, 3, 4], (a, b) => a * b);
        Nanoq.Ops.MulInPlace(dst, src);
        Check.Close(expected, dst.Span, 1e-6);
        // A tensor added into itself (exact aliasing).
        var t = Tensor.FromArray([1f, 2f, 3f]);
        Nanoq.Ops.AddInPlace(t, t);
        Assert.Equal([2f, 4f, 6f], t.ToArray());

        var ex = Assert.Throws<ArgumentException>(() => Nanoq.Ops.AddInPlace(Tensor.Zeros(3), Tensor.Zeros(2, 3)));
        Assert.Contains("[2, 3]", ex.Message);
        Assert.Contains("[3]", ex.Message);
    }
}
