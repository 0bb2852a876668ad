namespace Nanoq.Tests.Ops;

public class NormalizationOpsTests
{
    [Fact]
    public void Batch_norm_wrappers_train_eval_and_backward()
    {
        var rng = new Rng(81);
        var x = Data.Tensor(rng, 4, 3, 2, 5);
        var gamma = Tensor.FromArray([1f, 2f, 0.5f]);
        var beta = Tensor.FromArray([0f, 1f, -1f]);
        var rm = Tensor.Zeros(3);
        var rv = Tensor.Ones(3);
        using var y = Nanoq.Ops.BatchNorm2dTrain(x, gamma, beta, rm, rv, 0.1f, 1e-5f, out var mean, out var invstd);
        Assert.Equal(x.Shape, y.Shape);
        Assert.Equal(new Shape(3), mean.Shape);
        // Per channel, (y − β)/γ has mean 0 and (biased) variance ≈ 1.
        for (int c = 0; c < 3; c++)
        {
            var vals = new List<double>();
            for (int n = 0; n < 4; n++) for (int i = 0; i < 2; i++) for (int j = 0; j < 5; j++) vals.Add((y[n, c, i, j] - beta.Span[c]) / gamma.Span[c]);
            Assert.Equal(0, vals.Average(), 1e-5);
            Assert.Equal(1, vals.Select(v => v * v).Average(), 1e-3);
            Assert.Equal(0.1 * mean.Span[c], rm.Span[c], 1e-6);
        }

        using var ye = Nanoq.Ops.BatchNorm2dEval(x, gamma, beta, rm, rv, 1e-5f);
        Assert.Equal(x.Shape, ye.Shape);

        var dy = Data.Tensor(rng, 4, 3, 2, 5);
        using var dx = Nanoq.Ops.BatchNorm2dBackward(dy, x, gamma, mean, invstd, out var dg, out var db);
        Assert.Equal(x.Shape, dx.Shape);
        Assert.Equal(new Shape(3), dg.Shape);
        // Σ dx over a channel is 0 (the mean subtraction removes any constant shift).
        for (int c = 0; c < 3; c++)
        {
            double s = 0;
            for (int n = 0; n < 4; n++) for (int i = 0; i < 2; i++) for (int j = 0; j < 5; j++) s += dx[n, c, i, j];
            Assert.Equal(0, s, 1e-4);
        }
        Check.Close(Naive.Sum(dy, [true, false, true, true]), db.Span, 1e-5, 1e-5);

        using var dxe = Nanoq.Ops.BatchNorm2dEvalBackward(dy, x, gamma, rm, rv, 1e-5f, out _, out var dbe);
        Check.Close(db.Span, dbe.Span, 1e-6, 1e-6);

        // BatchNorm1d shape and affine = false.
        var x1 = Data.Tensor(rng, 6, 4);
        using var y1 = Nanoq.Ops.BatchNorm2dTrain(x1, null, null, null, null, 0.1f, 1e-5f, out var m1, out var s1);
        using var dx1 = Nanoq.Ops.BatchNorm2dBackward(x1, x1, null, m1, s1, out var dg1, out var db1);
        Assert.Equal(0, dg1.Size);
        Assert.Equal(0, db1.Size);

        var ex = Assert.Throws<ArgumentException>(() => Nanoq.Ops.BatchNorm2dBackward(Tensor.Zeros(4, 3), x, gamma, mean, invstd, out _, out _));
        Assert.Contains("[4, 3]", ex.Message);
        Assert.Contains("[4, 3, 2, 5]", ex.Message);
    }

    [Fact]
    public void Softmax_wrappers_along_every_axis()
    {
        var rng = new Rng(82);
        var x = Data.Tensor(rng, 2, 3, 4);
        for (int axis = -3; axis < 3; axis++)
        {
            using var y = Nanoq.Ops.Softmax(x, axis);
            using var s = Nanoq.Ops.Sum(y, axis);
            Assert.All(s.ToArray(), v => Assert.Equal(1f, v, 1e-6f));
            using var ly = Nanoq.Ops.LogSoftmax(x, axis);
            using var e = Nanoq.Ops.Exp(ly);
            Check.Close(y.Span, e.Span, 1e-5, 1e-6);
            var g = Data.Tensor(rng, 2, 3, 4);
            using var d1 = Nanoq.Ops.SoftmaxBackward(y, g, axis);
            using var d2 = Nanoq.Ops.LogSoftmaxBackward(ly, g, axis);
            using var s1 = Nanoq.Ops.Sum(d1, axis); // softmax's Jacobian annihilates constants: Σ dx = 0
            Assert.All(s1.ToArray(), v => Assert.Equal(0f, v, 1e-5f));
            Assert.Equal(x.Shape, d2.Shape);
        }
        Assert.Equal((6, 4, 5), Nanoq.Ops.AroundAxis(new Shape(2, 3, 4, 5), 2) is var t ? (t.Outer, t.AxisLen, t.Inner) : default);
    }
}
