using Nanoq.Autograd;

namespace Nanoq.Detection.Tests.RetinaNet;

public class FocalLossTests
{
    [Fact]
    public void MatchesTorchvisionSigmoidFocalLossAndItsGradient()
    {
        foreach (var c in TorchvisionFixture.Json("focal_loss.json").Cases("cases"))
        {
            float alpha = (float)c.Double("alpha"), gamma = (float)c.Double("gamma");
            var x = c.Floats("inputs");
            var t = c.Floats("targets");
            var none = c.Floats("none");
            var grad = c.Floats("grad_sum");
            double sum = 0;
            for (int i = 0; i < x.Length; i++)
            {
                // Element by element (the fixture has multi-hot rows, which row labels cannot express).
                double l = SigmoidFocalLoss.Loss(x[i], t[i] == 1f, alpha, gamma);
                sum += l;
                Assert.True(Math.Abs(l - none[i]) <= 1e-5 * Math.Max(1, Math.Abs(none[i])), $"loss[{i}] {l} vs {none[i]}");
                float g = SigmoidFocalLoss.Gradient(x[i], t[i] == 1f, alpha, gamma);
                Assert.True(Math.Abs(g - grad[i]) <= 1e-5 * Math.Max(1e-3, Math.Abs(grad[i])), $"grad[{i}] {g} vs {grad[i]}");
            }
            Assert.Equal(c.Double("sum"), sum, 3);
        }
    }

    [Fact]
    public void RowLabelsAgreeWithElementwiseTargets()
    {
        // Rows as RetinaNet labels them: class k → one-hot target, background → all zeros.
        var x = new Rng(5).Normal(new Shape(6, 3), 0f, 3f);
        int[] labels = [0, -1, 2, 1, -1, 0];
        var v = new Var(x, requiresGrad: true);
        var loss = SigmoidFocalLoss.Forward(v, labels, Enumerable.Repeat(1f, 6).ToArray());
        double expected = 0;
        for (int r = 0; r < 6; r++)
            for (int k = 0; k < 3; k++) expected += SigmoidFocalLoss.Loss(x[r, k], labels[r] == k, 0.25f, 2f);
        Assert.Equal(expected, loss.Value.Span[0], 4);
    }

    [Fact]
    public void GradCheckWithWeightsAndIgnoredRows()
    {
        var x = new Rng(3).Normal(new Shape(7, 4), 0f, 2f);
        int[] labels = [0, -1, 3, -2, 1, -1, 2];
        float[] weights = [0.5f, 0.5f, 0.5f, 0.5f, 0.25f, 0.25f, 0.25f];
        var r = GradCheck.Check(v => SigmoidFocalLoss.Forward(v[0], labels, weights), [x]);
        Assert.True(r.Ok, r.Detail);
    }

    [Fact]
    public void IgnoredRowsContributeNothing()
    {
        var x = new Var(Tensor.FromArray([5f, -5f, 1f, 2f], 2, 2), requiresGrad: true);
        var loss = SigmoidFocalLoss.Forward(x, [SigmoidFocalLoss.Ignore, SigmoidFocalLoss.Ignore], [1f, 1f]);
        Assert.Equal(0f, loss.Value.Span[0]);
        loss.Backward();
        Assert.All(x.Grad!.ToArray(), g => Assert.Equal(0f, g));
    }

    [Fact]
    public void ExtremeLogitsStayFinite()
    {
        var x = new Var(Tensor.FromArray([80f, -80f, 80f, -80f], 2, 2), requiresGrad: true);
        var loss = SigmoidFocalLoss.Forward(x, [1, SigmoidFocalLoss.Background], [1f, 1f]);
        Assert.True(float.IsFinite(loss.Value.Span[0]));
        loss.Backward();
        Assert.All(x.Grad!.ToArray(), g => Assert.True(float.IsFinite(g)));
    }
}
