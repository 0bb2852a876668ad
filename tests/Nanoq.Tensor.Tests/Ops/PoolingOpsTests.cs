using Nanoq.Kernels;

namespace Nanoq.Tests.Ops;

public class PoolingOpsTests
{
    [Fact]
    public void Max_pool_wrapper_shapes_and_backward()
    {
        var rng = new Rng(71);
        var x = Data.Tensor(rng, 2, 3, 7, 6);
        using var y = Nanoq.Ops.MaxPool2d(x, 3, 2, 1, out var argmax);
        Assert.Equal(new Shape(2, 3, 4, 3), y.Shape); // (7 + 2 − 3)/2 + 1 = 4, (6 + 2 − 3)/2 + 1 = 3
        Assert.Equal(y.Size, argmax.Length);
        var expected = new float[y.Size];
        var arg = new int[y.Size];
        Pooling2d.MaxPool2dForward(x.Span, 2, 3, 7, 6, 3, 2, 1, expected, arg);
        Assert.Equal(expected, y.ToArray());
        Assert.Equal(arg, argmax);
        Assert.Equal(expected, Nanoq.Ops.MaxPool2d(x, 3, 2, 1).ToArray());

        var dy = Data.Tensor(rng, 2, 3, 4, 3);
        using var dx = Nanoq.Ops.MaxPool2dBackward(dy, argmax, x.Shape, 3, 2, 1);
        Assert.Equal(x.Shape, dx.Shape);
        Assert.Equal(Data.Dot(dy.Span, y.Span), Data.Dot(dx.Span, x.Span), 1e-4); // dx routes dy to the maxima
        TensorPool.Return(argmax);

        var ex = Assert.Throws<ArgumentException>(() => Nanoq.Ops.MaxPool2dBackward(Tensor.Zeros(2, 3, 3, 3), arg, x.Shape, 3, 2, 1));
        Assert.Contains("[2, 3, 3, 3]", ex.Message);
        Assert.Contains("[2, 3, 7, 6]", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => Nanoq.Ops.MaxPool2d(Tensor.Zeros(3, 7, 6), 2, 2, 0));
        Assert.Contains("[3, 7, 6]", ex.Message);
    }

    [Fact]
    public void Avg_and_global_pool_wrappers_are_adjoint_to_their_backwards()
    {
        var rng = new Rng(72);
        var x = Data.Tensor(rng, 2, 2, 5, 5);
        using var y = Nanoq.Ops.AvgPool2d(x, 2, 2, 1);
        Assert.Equal(new Shape(2, 2, 3, 3), y.Shape);
        var g = Data.Tensor(rng, 2, 2, 3, 3);
        using var dx = Nanoq.Ops.AvgPool2dBackward(g, x.Shape, 2, 2, 1);
        Assert.Equal(Data.Dot(y.Span, g.Span), Data.Dot(x.Span, dx.Span), 1e-4);

        using var gy = Nanoq.Ops.GlobalAvgPool(x);
        Assert.Equal(new Shape(2, 2), gy.Shape);
        var gg = Data.Tensor(rng, 2, 2);
        using var gdx = Nanoq.Ops.GlobalAvgPoolBackward(gg, x.Shape);
        Assert.Equal(Data.Dot(gy.Span, gg.Span), Data.Dot(x.Span, gdx.Span), 1e-4);
        Assert.Throws<ArgumentException>(() => Nanoq.Ops.GlobalAvgPoolBackward(Tensor.Zeros(2, 3), x.Shape));
    }

    [Fact]
    public void Upsample_wrappers()
    {
        var rng = new Rng(73);
        var x = Data.Tensor(rng, 1, 2, 3, 4);
        using var y = Nanoq.Ops.UpsampleNearest2d(x, 2);
        Assert.Equal(new Shape(1, 2, 6, 8), y.Shape);
        Assert.Equal(x[0, 1, 2, 3], y[0, 1, 5, 7]);
        Assert.Equal(y.ToArray(), Nanoq.Ops.UpsampleNearest2d(x, 6, 8).ToArray());
        var g = Data.Tensor(rng, 1, 2, 6, 8);
        using var dx = Nanoq.Ops.UpsampleNearest2dBackward(g, 2);
        Assert.Equal(x.Shape, dx.Shape);
        Check.Same(dx.Span, Nanoq.Ops.UpsampleNearest2dBackward(g, x.Shape).Span); // same summation order on both paths
        Assert.Equal(Data.Dot(y.Span, g.Span), Data.Dot(x.Span, dx.Span), 1e-4);
        using var odd = Nanoq.Ops.UpsampleNearest2d(x, 5, 7);
        Assert.Equal(new Shape(1, 2, 5, 7), odd.Shape);
        Assert.Throws<ArgumentException>(() => Nanoq.Ops.UpsampleNearest2dBackward(Tensor.Zeros(1, 1, 5, 4), 2));
    }
}
