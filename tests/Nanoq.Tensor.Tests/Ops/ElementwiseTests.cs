namespace Nanoq.Tests.Ops;

public class ElementwiseTests
{
    private static void Unary(Func<Tensor, Tensor> op, Func<double, double> f, float lo = -3f, float hi = 3f, double rtol = 1e-6, double atol = 1e-7)
    {
        var rng = new Rng(41);
        for (int n = 0; n <= 256; n++)
        {
            var x = Data.Tensor(rng, n);
            rng.FillUniform(x.Span, lo, hi);
            using var y = op(x);
            Assert.Equal(x.Shape, y.Shape);
            Check.Close(x.ToArray().Select(v => f(v)).ToArray(), y.Span, rtol, atol, $"n={n}");
        }
    }

    [Fact] public void Neg() => Unary(Nanoq.Ops.Neg, x => -x);
    [Fact] public void Exp() => Unary(Nanoq.Ops.Exp, Math.Exp, rtol: 2e-6);
    [Fact] public void Log() => Unary(Nanoq.Ops.Log, Math.Log, 0.01f, 100f, 1e-6, 1e-6);
    [Fact] public void Sqrt() => Unary(Nanoq.Ops.Sqrt, Math.Sqrt, 0f, 100f);
    [Fact] public void Abs() => Unary(Nanoq.Ops.Abs, Math.Abs);
    [Fact] public void Square() => Unary(Nanoq.Ops.Square, x => x * x);
    [Fact] public void Relu() => Unary(Nanoq.Ops.Relu, x => Math.Max(x, 0));
    [Fact] public void Relu6() => Unary(Nanoq.Ops.Relu6, x => Math.Clamp(x, 0, 6), -3f, 9f);
    [Fact] public void Sigmoid() => Unary(Nanoq.Ops.Sigmoid, x => 1 / (1 + Math.Exp(-x)));
    [Fact] public void Tanh() => Unary(Nanoq.Ops.Tanh, Math.Tanh, rtol: 1e-5, atol: 1e-6);
    [Fact] public void Sign() => Unary(Nanoq.Ops.Sign, x => Math.Sign(x));
    [Fact] public void Clamp() => Unary(t => Nanoq.Ops.Clamp(t, -1f, 0.5f), x => Math.Clamp(x, -1, 0.5));
    [Fact] public void Add_scalar() => Unary(t => Nanoq.Ops.Add(t, 0.25f), x => x + 0.25);
    [Fact] public void Mul_scalar() => Unary(t => Nanoq.Ops.Mul(t, -1.5f), x => x * -1.5);

    [Fact]
    public void Special_values()
    {
        var x = Tensor.FromArray([0f, -1f, float.PositiveInfinity]);
        Assert.Equal([float.NegativeInfinity, float.NaN, float.PositiveInfinity], Nanoq.Ops.Log(x).ToArray());
        Assert.Equal([float.PositiveInfinity, float.NegativeInfinity, float.NaN],
            Nanoq.Ops.Div(Tensor.FromArray([1f, -1f, 0f]), Tensor.FromArray([0f, 0f, 0f])).ToArray());
        Assert.True(float.IsNaN(Nanoq.Ops.Maximum(Tensor.FromArray([float.NaN]), Tensor.FromArray([1f])).ToScalar()));
        Assert.True(float.IsNaN(Nanoq.Ops.Minimum(Tensor.FromArray([1f]), Tensor.FromArray([float.NaN])).ToScalar()));
    }

    [Fact]
    public void Results_are_new_tensors_with_the_input_shape()
    {
        var x = Tensor.Ones(2, 3);
        using var y = Nanoq.Ops.Exp(x);
        Assert.NotSame(x.Buffer, y.Buffer);
        Assert.Equal(new Shape(2, 3), y.Shape);
        Assert.Equal(1f, x[1, 2]);
    }

    [Fact]
    public void In_place_helpers()
    {
        var y = Tensor.FromArray([1f, 2f, 3f]);
        Nanoq.Ops.Axpy(2f, Tensor.FromArray([1f, 1f, -1f]), y);
        Assert.Equal([3f, 4f, 1f], y.ToArray());
        Nanoq.Ops.ScaleInPlace(y, 0.5f);
        Assert.Equal([1.5f, 2f, 0.5f], y.ToArray());
        Nanoq.Ops.AddInPlace(y, 1f);
        Assert.Equal([2.5f, 3f, 1.5f], y.ToArray());
        Nanoq.Ops.ClampInPlace(y, 2f, 2.75f);
        Assert.Equal([2.5f, 2.75f, 2f], y.ToArray());
        var dst = Tensor.Zeros(3);
        Nanoq.Ops.CopyTo(y, dst);
        Assert.Equal(y.ToArray(), dst.ToArray());
        var ex = Assert.Throws<ArgumentException>(() => Nanoq.Ops.Axpy(1f, Tensor.Zeros(3), Tensor.Zeros(1, 3)));
        Assert.Contains("[3]", ex.Message);
        Assert.Contains("[1, 3]", ex.Message);
        Assert.Throws<ArgumentException>(() => Nanoq.Ops.CopyTo(Tensor.Zeros(3), Tensor.Zeros(4)));
    }

    [Fact]
    public void Activation_backward_wrappers()
    {
        var x = Tensor.FromArray([-1f, 0f, 0.5f, 6f, 7f]);
        var g = Tensor.FromArray([1f, 2f, 3f, 4f, 5f]);
        Assert.Equal([0f, 0f, 3f, 4f, 5f], Nanoq.Ops.ReluBackward(x, g).ToArray());
        Assert.Equal([0f, 0f, 3f, 0f, 0f], Nanoq.Ops.Relu6Backward(x, g).ToArray());
        Assert.Equal([0f, 2f, 3f, 4f, 0f], Nanoq.Ops.ClampBackward(x, g, 0f, 6f).ToArray());
        var y = Tensor.FromArray([0.5f, 0.25f, 0f, 1f, 0.9f]);
        Check.Close(new double[] { 0.25, 2 * 0.1875, 0, 0, 5 * 0.9 * 0.1 }, Nanoq.Ops.SigmoidBackward(y, g).Span, 1e-6);
        Check.Close(new double[] { 0.75, 2 * 0.9375, 3, 0, 5 * 0.19 }, Nanoq.Ops.TanhBackward(y, g).Span, 1e-6);
        var ex = Assert.Throws<ArgumentException>(() => Nanoq.Ops.ReluBackward(Tensor.Zeros(2, 2), Tensor.Zeros(4)));
        Assert.Contains("[2, 2]", ex.Message);
        Assert.Contains("[4]", ex.Message);
    }
}
