using Nanoq.Autograd;

namespace Nanoq.Tests;

public class VarTests
{
    [Fact]
    public void GradientsAccumulateOverTwoUses()
    {
        // y = x·x + x  ⇒  dy/dx = 2x + 1 = 7 at x = 3
        var x = new Var(Tensor.FromArray([3f], 1), requiresGrad: true);
        var y = Fn.Add(Fn.Mul(x, x), x);
        y.Backward();
        Assert.Equal(7f, x.Grad!.Span[0]);
    }

    [Fact]
    public void SecondBackwardAddsToLeafGradient()
    {
        var x = new Var(Tensor.FromArray([2f], 1), requiresGrad: true);
        Fn.Scale(x, 3f).Backward();
        Fn.Scale(x, 3f).Backward();
        Assert.Equal(6f, x.Grad!.Span[0]);
        x.ZeroGrad();
        Assert.Null(x.Grad);
    }

    [Fact]
    public void DiamondGraphIsSweptOnceInTopologicalOrder()
    {
        // a = 2x, b = a + a·a, L = Σ b ⇒ dL/dx = 2 (1 + 2a) = 2 (1 + 8) = 18 at x = 2.
        var x = new Var(Tensor.FromArray([2f], 1), requiresGrad: true);
        var a = Fn.Scale(x, 2f);
        var b = Fn.Add(a, Fn.Mul(a, a));
        Fn.Sum(b).Backward();
        Assert.Equal(18f, x.Grad!.Span[0]);
    }

    [Fact]
    public void NoGradRecordsNothing()
    {
        var x = new Var(Tensor.FromArray([1f, 2f], 2), requiresGrad: true);
        Var y;
        using (GradMode.NoGrad()) y = Fn.Mul(x, x);
        Assert.False(y.RequiresGrad);
        Assert.Empty(y.Parents);
        Assert.Throws<InvalidOperationException>(() => Fn.Sum(y).Backward());
        Assert.True(GradMode.IsEnabled);
    }

    [Fact]
    public void ConstantsGetNoGradient()
    {
        var x = new Var(Tensor.FromArray([1f, 2f], 2), requiresGrad: true);
        var c = new Var(Tensor.FromArray([5f, 7f], 2));
        Fn.Sum(Fn.Mul(x, c)).Backward();
        Assert.Null(c.Grad);
        Assert.Equal([5f, 7f], x.Grad!.ToArray());
    }

    [Fact]
    public void BackwardOfNonScalarNeedsASeed()
    {
        var x = new Var(Tensor.FromArray([1f, 2f], 2), requiresGrad: true);
        var ex = Assert.Throws<InvalidOperationException>(() => Fn.Scale(x, 2f).Backward());
        Assert.Contains("[2]", ex.Message);
    }

    [Fact]
    public void TapeReturnsIntermediateBuffersAndSteadyStateAllocatesNothing()
    {
        var w = new Var(TestData.Normal(1, 64, 64), requiresGrad: true);
        var x = new Var(TestData.Normal(2, 64, 64));
        void Step()
        {
            using var tape = new Tape();
            var loss = Fn.Mean(Fn.Square(Fn.Relu(Fn.Mul(x, w))));
            loss.Backward();
            Assert.True(tape.Count >= 4);
            w.ZeroGrad();
        }
        Step();
        Step();
        long misses = TensorPool.Misses;
        for (int i = 0; i < 5; i++) Step();
        Assert.Equal(misses, TensorPool.Misses);
    }

    [Fact]
    public void ShapeMismatchNamesBothShapes()
    {
        var a = new Var(Tensor.Zeros(2, 3));
        var b = new Var(Tensor.Zeros(4, 5));
        var ex = Assert.ThrowsAny<ArgumentException>(() => Fn.Add(a, b));
        Assert.Contains("[2, 3]", ex.Message);
        Assert.Contains("[4, 5]", ex.Message);
    }
}

public class GradCheckSelfTests
{
    [Fact]
    public void GradCheckCatchesAWrongBackward()
    {
        // y = x², with a backward that forgets the factor 2.
        static Var BadSquare(Var x) => Var.Op(Ops.Square(x.Value), [x], o => x.AccumulateGrad(Ops.Mul(o.Grad!, x.Value), takeOwnership: true));
        var r = GradCheck.Check(v => BadSquare(v[0]), [TestData.Normal(1, 5)]);
        Assert.False(r.Ok);
        Assert.Contains("analytic", r.Detail);
    }
}
