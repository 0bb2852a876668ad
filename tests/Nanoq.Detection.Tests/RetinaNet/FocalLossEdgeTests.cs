using Nanoq.Autograd;

namespace Nanoq.Detection.Tests.RetinaNet;

/// <summary>
/// <see cref="SigmoidFocalLoss"/> where the mutation run (tools/README.md) found it unpinned: logits far beyond
/// exp's range (each branch of σ and softplus must be the one that stays finite), γ ≠ 2, and the argument checks.
/// </summary>
public class FocalLossEdgeTests
{
    [Fact]
    public void HugeLogitsStayFinite()
    {
        // α = 0.25, γ = 2. Row 0 (class 0): x = 1000 for its class → p = 1, (1 − p)² = 0 → 0; x = −1000 elsewhere → p = 0 → 0.
        // Row 1 (class 1): class 0 at 1000 is a confident false positive, (1 − α)·1·softplus(1000) = 750; class 1 at −1000
        // a confident miss, α·1·softplus(1000) = 250. Total 1000. Gradients there: (1 − α)·p²·(p + 0) = 0.75 and
        // α·(1 − p)²·(0 − (1 − p)) = −0.25; zero in row 0.
        var x = new Var(Tensor.FromArray([1000f, -1000f, 1000f, -1000f], 2, 2), requiresGrad: true);
        var loss = SigmoidFocalLoss.Forward(x, [0, 1], [1f, 1f]);
        Assert.Equal(1000f, loss.Value.Span[0]);
        loss.Backward();
        Assert.Equal([0f, 0f, 0.75f, -0.25f], x.Grad!.Span.ToArray());
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(1f)]
    [InlineData(3.5f)]
    public void OtherGammasFollowTheFormula(float gamma)
    {
        // FL = α_t (1 − p_t)^γ ce in double, straight from Lin et al. eq. 5, against the fused kernel.
        float[] xs = [0.5f, -1.25f, 2f, -0.3f];
        var x = new Var(Tensor.FromArray(xs, 2, 2), requiresGrad: true);
        var loss = SigmoidFocalLoss.Forward(x, [1, -1], [1f, 0.5f], 0.25f, gamma);
        double expected = 0;
        for (int i = 0; i < 4; i++)
        {
            bool t = i == 1; // row 0 is class 1; row 1 is background
            double p = 1 / (1 + Math.Exp(-xs[i]));
            double pt = t ? p : 1 - p, at = t ? 0.25 : 0.75;
            expected += (i < 2 ? 1 : 0.5) * at * Math.Pow(1 - pt, gamma) * -Math.Log(pt);
        }
        Assert.Equal(expected, loss.Value.Span[0], 1e-6);
    }

    [Fact]
    public void RejectsBadArguments()
    {
        var x = new Var(Tensor.Zeros(2, 3));
        // Rank-1 logits: the rank check names them (without it, the shape read fails with another exception or message).
        var rank = Assert.ThrowsAny<ArgumentException>(() => SigmoidFocalLoss.Forward(new Var(Tensor.Zeros(6)), [0], [1f]));
        Assert.Contains("logits", rank.Message);
        Assert.Throws<ArgumentException>(() => SigmoidFocalLoss.Forward(x, [0], [1f, 1f]));
        Assert.Throws<ArgumentException>(() => SigmoidFocalLoss.Forward(x, [0, 0], [1f]));
        Assert.Throws<ArgumentOutOfRangeException>(() => SigmoidFocalLoss.Forward(x, [0, 3], [1f, 1f]));  // class k
        Assert.Throws<ArgumentOutOfRangeException>(() => SigmoidFocalLoss.Forward(x, [-3, 0], [1f, 1f])); // below −2
        // An ignored row (−2) or a zero weight skips the row, whatever its label.
        Assert.Equal(0f, SigmoidFocalLoss.Forward(x, [-2, 7], [1f, 0f]).Value.Span[0]);
    }

    /// <summary>
    /// α = 0 is a weighting, not "no weighting": torchvision applies α_t = α·t + (1 − α)(1 − t) for every α ≥ 0, so positives
    /// weigh 0 and negatives 1; only a negative α turns weighting off. Hand values: logit 0 (p = ½), γ = 2: a negative
    /// costs (½)²·log 2, a positive nothing.
    /// </summary>
    [Fact]
    public void Alpha_zero_weighs_positives_zero_and_negatives_one()
    {
        var x = new Var(Tensor.Zeros(1, 2));
        double negative = 0.25 * Math.Log(2);
        Assert.Equal(negative, SigmoidFocalLoss.Forward(x, [0], [1f], alpha: 0f).Value.Span[0], 6);  // class 0 positive, class 1 negative
        Assert.Equal(2 * negative, SigmoidFocalLoss.Forward(x, [0], [1f], alpha: -1f).Value.Span[0], 6); // no weighting: both count
    }
}
