namespace Nanoq.Tests.Ops;

public class ReduceTests
{
    [Fact]
    public void Sum_and_mean_over_random_axis_sets_match_a_naive_loop()
    {
        var rng = new Rng(51);
        for (int trial = 0; trial < 200; trial++)
        {
            int rank = rng.NextInt(1, 6);
            var dims = Enumerable.Range(0, rank).Select(_ => rng.NextInt(12) == 0 ? 0 : rng.NextInt(1, 6)).ToArray();
            var x = Data.Tensor(rng, dims);
            var reduce = dims.Select(_ => rng.NextInt(2) == 0).ToArray();
            var axes = Enumerable.Range(0, rank).Where(i => reduce[i]).Select(i => rng.NextInt(2) == 0 ? i : i - rank).ToArray();
            bool keep = rng.NextInt(2) == 0;
            var expected = Naive.Sum(x, reduce);
            using var s = Nanoq.Ops.Sum(x, axes, keep);
            var expectedDims = dims.Select((d, i) => reduce[i] ? (keep ? 1 : -1) : d).Where(d => d >= 0).ToArray();
            Assert.Equal(new Shape(expectedDims), s.Shape);
            Check.Close(expected, s.Span, 1e-6, 1e-6, $"sum {x.Shape} over [{string.Join(",", axes)}]");
            if (axes.Length == 0) continue;
            long count = dims.Where((_, i) => reduce[i]).Aggregate(1L, (a, d) => a * d);
            using var m = Nanoq.Ops.Mean(x, axes, keep);
            Check.Close(expected.Select(v => v / count).ToArray(), m.Span, 1e-6, 1e-6, "mean");
        }
    }

    [Fact]
    public void Sum_of_typical_gradient_shapes()
    {
        // Bias gradient of a conv: [N, C, H, W] over {0, 2, 3}; of a linear layer: [N, C] over {0}.
        var rng = new Rng(52);
        var x = Data.Tensor(rng, 4, 3, 5, 6);
        Check.Close(Naive.Sum(x, [true, false, true, true]), Nanoq.Ops.Sum(x, [0, 2, 3]).Span, 1e-6, 1e-6);
        var g = Data.Tensor(rng, 7, 5);
        Check.Close(Naive.Sum(g, [true, false]), Nanoq.Ops.Sum(g, 0).Span, 1e-6, 1e-6);
        Check.Close(Naive.Sum(g, [false, true]), Nanoq.Ops.Sum(g, -1, keepDim: true).Span, 1e-6, 1e-6);
        Assert.Equal(new Shape(7, 1), Nanoq.Ops.Sum(g, -1, keepDim: true).Shape);
    }

    [Fact]
    public void Axis_errors_and_edge_cases()
    {
        var x = Tensor.Ones(2, 3);
        Assert.Throws<ArgumentException>(() => Nanoq.Ops.Sum(x, [1, -1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Nanoq.Ops.Sum(x, 2));
        Assert.Equal(x.ToArray(), Nanoq.Ops.Sum(x, []).ToArray()); // NumPy's axis=(): nothing reduced
        Assert.Equal([0f, 0f], Nanoq.Ops.Sum(Tensor.Zeros(2, 0), 1).ToArray());
        Assert.All(Nanoq.Ops.Mean(Tensor.Zeros(2, 0), 1).ToArray(), v => Assert.True(float.IsNaN(v)));
        Assert.Equal(6f, Nanoq.Ops.Sum(x, [0, 1]).ToScalar());
        Assert.Equal(0, Nanoq.Ops.Sum(x, [0, 1]).Rank);
    }

    [Fact]
    public void Whole_tensor_reductions()
    {
        var x = Tensor.FromArray([3f, -1f, 4f, 1f, -5f, 9f]);
        Assert.Equal(11f, Nanoq.Ops.SumAll(x));
        Assert.Equal(11f / 6, Nanoq.Ops.MeanAll(x), 1e-6f);
        Assert.Equal(9f, Nanoq.Ops.MaxAll(x));
        Assert.Equal(-5f, Nanoq.Ops.MinAll(x));
        Assert.Equal(0f, Nanoq.Ops.SumAll(Tensor.Zeros(0)));
        Assert.True(float.IsNaN(Nanoq.Ops.MeanAll(Tensor.Zeros(0))));
        var ex = Assert.Throws<InvalidOperationException>(() => Nanoq.Ops.MaxAll(Tensor.Zeros(2, 0)));
        Assert.Contains("[2, 0]", ex.Message);
        Assert.Throws<InvalidOperationException>(() => Nanoq.Ops.MinAll(Tensor.Zeros(0)));
        // Double accumulation: 10⁶ × 0.1f.
        var big = Tensor.Full(new Shape(1000, 1000), 0.1f);
        Assert.Equal(100000f, Nanoq.Ops.SumAll(big));
        Assert.Equal(0.1f, Nanoq.Ops.MeanAll(big));
        Assert.Equal(Enumerable.Repeat(100f, 1000), Nanoq.Ops.Sum(big, 0).ToArray().Select(v => MathF.Round(v, 3)));
    }

    [Fact]
    public void Max_min_and_argmax_along_an_axis()
    {
        var rng = new Rng(53);
        foreach (var dims in new[] { new[] { 5 }, new[] { 3, 4 }, new[] { 2, 5, 3 }, new[] { 2, 1, 7 }, new[] { 4, 3, 2, 2 } })
            for (int axis = 0; axis < dims.Length; axis++)
            {
                var x = Tensor.FromArray(Data.SmallInts(rng, new Shape(dims).Size), dims);
                int outer = dims.Take(axis).Aggregate(1, (a, b) => a * b), len = dims[axis], inner = dims.Skip(axis + 1).Aggregate(1, (a, b) => a * b);
                using var mx = Nanoq.Ops.Max(x, axis, false, out var arg);
                using var mn = Nanoq.Ops.Min(x, axis, true, out var argMin);
                var argMax = Nanoq.Ops.ArgMax(x, axis);
                for (int o = 0; o < outer; o++)
                    for (int j = 0; j < inner; j++)
                    {
                        int bi = 0, si = 0;
                        for (int l = 1; l < len; l++)
                        {
                            if (x.Span[(o * len + l) * inner + j] > x.Span[(o * len + bi) * inner + j]) bi = l; // first max
                            if (x.Span[(o * len + l) * inner + j] < x.Span[(o * len + si) * inner + j]) si = l;
                        }
                        Assert.Equal(x.Span[(o * len + bi) * inner + j], mx.Span[o * inner + j]);
                        Assert.Equal(bi, arg[o * inner + j]);
                        Assert.Equal(bi, argMax[o * inner + j]);
                        Assert.Equal(x.Span[(o * len + si) * inner + j], mn.Span[o * inner + j]);
                        Assert.Equal(si, argMin[o * inner + j]);
                    }
                Assert.Equal(dims.Where((_, i) => i != axis).ToArray(), mx.Shape.ToArray());
                Assert.Equal(dims.Select((d, i) => i == axis ? 1 : d).ToArray(), mn.Shape.ToArray());
                Assert.Equal(mx.Size, arg.Length);
                Assert.Equal(mx.ToArray(), Nanoq.Ops.Max(x, axis).ToArray());
                Assert.Equal(mn.ToArray(), Nanoq.Ops.Min(x, axis, keepDim: true).ToArray());
            }
        var nan = Tensor.FromArray([1f, float.NaN, 3f, float.NaN], 4);
        Assert.True(float.IsNaN(Nanoq.Ops.Max(nan, 0, false, out var ia).ToScalar()));
        Assert.Equal(1, ia[0]);
        // The same along a strided axis wide enough for the vector loop (9 columns: one vector and a tail).
        var cols = Tensor.Zeros(3, 9);
        cols[0, 0] = 5f; cols[1, 0] = float.NaN; cols[2, 0] = float.NaN;
        cols[1, 8] = float.NaN; cols[2, 8] = 7f;
        cols[2, 3] = 1f;
        using var cm = Nanoq.Ops.Max(cols, 0, false, out var ci);
        Assert.True(float.IsNaN(cm[0]) && float.IsNaN(cm[8]));
        Assert.Equal([1, 0, 0, 2, 0, 0, 0, 0, 1], ci);
        using var cn = Nanoq.Ops.Min(cols, 0, false, out var cni);
        Assert.Equal(1, cni[0]);
        Assert.Equal(0, cni[3]);
        Assert.Throws<ArgumentException>(() => Nanoq.Ops.Max(Tensor.Zeros(2, 0), 1));
    }

    [Theory]
    [InlineData(new[] { 2, 3, 4 }, new[] { 3, 1 })]
    [InlineData(new[] { 2, 3, 4 }, new[] { 1, 3, 4 })]
    [InlineData(new[] { 2, 3, 4 }, new[] { 4 })]
    [InlineData(new[] { 2, 3, 4 }, new int[0])]
    [InlineData(new[] { 5, 1, 6 }, new[] { 1, 1, 1 })]
    [InlineData(new[] { 4, 3, 5, 6 }, new[] { 1, 3, 1, 1 })]
    [InlineData(new[] { 3, 4 }, new[] { 3, 4 })]
    public void Reduce_to_shape_sums_over_the_broadcast_axes(int[] gradDims, int[] target)
    {
        var rng = new Rng(54);
        var g = Data.Tensor(rng, gradDims);
        using var r = Nanoq.Ops.ReduceToShape(g, new Shape(target));
        Assert.Equal(new Shape(target), r.Shape);
        // Reference: reduce the flagged axes of g, in the padded target's terms.
        var reduce = gradDims.Select((d, i) => { int j = i - (gradDims.Length - target.Length); return j < 0 || (target[j] == 1 && d != 1); }).ToArray();
        Check.Close(Naive.Sum(g, reduce), r.Span, 1e-6, 1e-6);
        Assert.NotSame(g.Buffer, r.Buffer);
    }

    [Fact]
    public void Reduce_to_shape_rejects_a_target_that_does_not_broadcast()
    {
        var ex = Assert.Throws<ArgumentException>(() => Nanoq.Ops.ReduceToShape(Tensor.Zeros(2, 3), new Shape(2)));
        Assert.Contains("[2, 3]", ex.Message);
        Assert.Contains("[2]", ex.Message);
        Assert.Throws<ArgumentException>(() => Nanoq.Ops.ReduceToShape(Tensor.Zeros(3), new Shape(1, 3)));
    }
}
