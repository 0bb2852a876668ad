using Nanoq.Cli.Reproduce;

namespace Nanoq.Cli.Tests.Reproduce;

/// <summary>The verdicts of claims, from hand-made numbers (the arithmetic in the comments).</summary>
public sealed class ClaimCheckTests
{
    [Fact]
    public void AGainBeyondTwoStandardErrorsIsReproduced()
    {
        // a = {46, 47, 48}: mean 47, s² = 1; b = {44, 45, 46}: mean 45, s² = 1. SE = √(1/3 + 1/3) = 0.8165; 2 SE = 1.63 < 2.
        var v = ClaimCheck.Gain([46, 47, 48], [44, 45, 46], noiseSd: 9);
        Assert.Equal(2.0, v.Effect, 12);
        Assert.Equal(Math.Sqrt(2.0 / 3), v.StandardError, 12);
        Assert.Equal("reproduced", v.Text);
    }

    [Fact]
    public void AGainInTheOtherDirectionIsNotReproducedAndASmallOneIsWithinNoise()
    {
        Assert.Equal("not reproduced", ClaimCheck.Gain([44, 45, 46], [46, 47, 48], 9).Text);
        // mean 45.5 vs 45: effect 0.5; s² of {45, 46} = 0.5, of {44.5, 45.5} = 0.5; SE = √(0.25 + 0.25) = 0.707; 0.5 < 1.41.
        var v = ClaimCheck.Gain([45, 46], [44.5, 45.5], 9);
        Assert.Equal(0.5, v.Effect, 12);
        Assert.Equal("within noise", v.Text);
    }

    [Fact]
    public void SingleSeedRowsUseThePlansNoiseEstimate()
    {
        // One seed each, noise sd 0.4: SE = √(0.16 + 0.16) = 0.566; 1.0 < 1.13 → within noise; 1.2 > 1.13 → reproduced.
        Assert.Equal("within noise", ClaimCheck.Gain([46.0], [45.0], 0.4).Text);
        Assert.Equal("reproduced", ClaimCheck.Gain([46.2], [45.0], 0.4).Text);
        Assert.Equal(Math.Sqrt(0.32), ClaimCheck.Gain([46.2], [45.0], 0.4).StandardError, 12);
    }

    [Fact]
    public void IdenticalSeedsDoNotMakeATinyDifferenceSignificant()
    {
        // sd 0 on both rows is floored at 0.1: SE = √(0.01/2 + 0.01/2) = 0.1; 0.05 < 0.2.
        Assert.Equal("within noise", ClaimCheck.Gain([30.05, 30.05], [30.0, 30.0], 0).Text);
    }

    [Fact]
    public void TheLossRatioClaimComparesTwoLosses()
    {
        // FP32 50, Jacob 42 (loss 8), FQN 48 (loss 2): ratio 4 ≥ 3.8 → reproduced; FQN 47 (loss 3): 2.67 → not reproduced.
        Assert.Equal(4.0, ClaimCheck.RatioAtLeast([50.0], [42.0], [48.0], 3.8, 0.2).Effect, 12);
        Assert.Equal("reproduced", ClaimCheck.RatioAtLeast([50.0], [42.0], [48.0], 3.8, 0.2).Text);
        Assert.Equal("not reproduced", ClaimCheck.RatioAtLeast([50.0], [42.0], [47.0], 3.8, 0.2).Text);
        // FQN loses nothing measurable (0.1 < 2·0.28): unbounded ratio, reproduced since Jacob's loss is significant.
        var v = ClaimCheck.RatioAtLeast([50.0], [42.0], [49.9], 3.8, 0.2);
        Assert.True(double.IsPositiveInfinity(v.Effect));
        Assert.Equal("reproduced", v.Text);
    }

    [Fact]
    public void PairedGainsAndThePooledNoise()
    {
        Assert.Equal([1.0, 2.0, -0.5], ClaimCheck.Paired([46, 47, 45.5], [45, 45, 46]));
        // Variances 1 ({1, 2, 3}) and 4 ({0, 2, 4}): pooled sd √2.5; one-seed rows are not counted.
        Assert.Equal(Math.Sqrt(2.5), ClaimCheck.PooledSd([[1.0, 2, 3], [0.0, 2, 4], [7.0]])!.Value, 12);
        Assert.Null(ClaimCheck.PooledSd([[7.0]]));
    }
}
