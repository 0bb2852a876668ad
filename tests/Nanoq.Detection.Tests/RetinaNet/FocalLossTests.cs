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

    /// <summary>
    /// The fused forward (one exp and one log a logit, rows in parallel chunks) against the element functions, bit for bit:
    /// the weighted total summed in row order and every gradient, on a batch large enough to split, with logits at the
    /// edges (±0, ±1e-30, ±20, ±200, ±∞), weights 0 and ignored rows, both with α and without, γ = 2 and 1.5.
    /// </summary>
    [Theory]
    [InlineData(0.25f, 2f)]
    [InlineData(-1f, 2f)]
    [InlineData(0.4f, 1.5f)]
    public void FusedForwardEqualsTheElementFunctionsBitForBit(float alpha, float gamma)
    {
        const int rows = 3001, k = 3;
        var rng = new Rng(9);
        var x = rng.Normal(new Shape(rows, k), 0f, 4f);
        float[] edges = [0f, -0f, 1e-30f, -1e-30f, 20f, -20f, 200f, -200f, float.PositiveInfinity, float.NegativeInfinity];
        for (int i = 0; i < edges.Length; i++) x.Span[i * 7] = edges[i];
        var labels = new int[rows];
        var weights = new float[rows];
        for (int r = 0; r < rows; r++)
        {
            labels[r] = rng.NextInt(k + 2) - 2;   // −2 ignored, −1 background, 0 … k − 1
            weights[r] = r % 11 == 0 ? 0f : rng.Uniform(0.01f, 1f);
        }
        var v = new Var(x, requiresGrad: true);
        var loss = SigmoidFocalLoss.Forward(v, labels, weights, alpha, gamma);
        double expected = 0;
        for (int r = 0; r < rows; r++)
        {
            if (labels[r] == SigmoidFocalLoss.Ignore || weights[r] == 0f) continue;
            double rowSum = 0;
            for (int c = 0; c < k; c++) rowSum += SigmoidFocalLoss.Loss(x[r, c], labels[r] == c, alpha, gamma);
            expected += weights[r] * rowSum;
        }
        Assert.Equal((float)expected, loss.Value.Span[0]);
        float g = 0.75f;
        loss.Backward(Tensor.FromArray([g], 1));
        var dx = v.Grad!.Span;
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < k; c++)
            {
                float want = labels[r] == SigmoidFocalLoss.Ignore || weights[r] == 0f ? 0f
                    : g * weights[r] * SigmoidFocalLoss.Gradient(x[r, c], labels[r] == c, alpha, gamma);
                Assert.True(BitConverter.SingleToInt32Bits(want) == BitConverter.SingleToInt32Bits(dx[r * k + c]), $"dx[{r}, {c}] {dx[r * k + c]} vs {want}");
            }
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

    [Fact]
    public void NegativeAlphaMeansNoAlphaWeightingAsInTorchvision()
    {
        // torchvision's sigmoid_focal_loss: "alpha: ... Default: 0.25. Negative values mean no weighting" (the code
        // multiplies by α_t only `if alpha >= 0`). Before issue 19 α = −1 gave positives a weight of −1 and negatives 2.
        // By hand at x = 0, γ = 2: p = 0.5, (1 − p)² = p² = 0.25, ce = ln 2, so FL = 0.25 · ln 2 for either target.
        double quarterLn2 = 0.25 * Math.Log(2);
        Assert.Equal(quarterLn2, SigmoidFocalLoss.Loss(0f, true, -1f, 2f), 12);
        Assert.Equal(quarterLn2, SigmoidFocalLoss.Loss(0f, false, -1f, 2f), 12);
        Assert.Equal(quarterLn2, SigmoidFocalLoss.Loss(0f, false, -0.01f, 2f), 12);
        // Unweighted = α-weighted / α_t, at any logit; the gradient too.
        foreach (float x in new[] { -6f, -1.5f, 0.3f, 4f })
        {
            Assert.Equal(SigmoidFocalLoss.Loss(x, true, 0.25f, 2f) / 0.25, SigmoidFocalLoss.Loss(x, true, -1f, 2f), 10);
            Assert.Equal(SigmoidFocalLoss.Loss(x, false, 0.25f, 2f) / 0.75, SigmoidFocalLoss.Loss(x, false, -1f, 2f), 10);
            Assert.Equal(SigmoidFocalLoss.Gradient(x, true, 0.25f, 2f) / 0.25f, SigmoidFocalLoss.Gradient(x, true, -1f, 2f), 5);
            Assert.Equal(SigmoidFocalLoss.Gradient(x, false, 0.25f, 2f) / 0.75f, SigmoidFocalLoss.Gradient(x, false, -1f, 2f), 5);
        }
        var xs = new Rng(8).Normal(new Shape(5, 3), 0f, 2f);
        int[] labels = [0, -1, 2, -2, 1];
        float[] weights = [1f, 1f, 0.5f, 1f, 0.5f];
        var r = GradCheck.Check(v => SigmoidFocalLoss.Forward(v[0], labels, weights, alpha: -1f), [xs]);
        Assert.True(r.Ok, r.Detail);
        Assert.Throws<ArgumentOutOfRangeException>(() => SigmoidFocalLoss.Forward(new Var(xs), labels, weights, alpha: float.NaN));
    }
}
