namespace Nanoq.Quant.Observers;

/// <summary>
/// Percentile calibration (the paper's P, DESIGN.md §5.7): the range is the (1 − γ) and γ percentiles of the
/// activation's values, which drops the rare outliers that would otherwise stretch a 4-bit grid (γ = 0.999 by default).
///
/// Aggregation over the n_cal batches: each batch's two percentiles are computed over all of that batch's values,
/// and the range is their arithmetic mean over batches (accumulated in double):
/// <code>
///     lb = (1/B) Σ_b P_{1−γ}(x_b),   ub = (1/B) Σ_b P_γ(x_b)
/// </code>
/// Chosen over one percentile of all batches pooled because memory stays one batch (20 batches of a detector's
/// early feature maps would be gigabytes), and over a histogram because it is exact within a batch with nothing to
/// tune (bin count, range growth). Deterministic: a batch's percentiles do not depend on anything but its values,
/// and the mean adds them in batch order. Monotone: a higher γ never narrows the range (each batch's percentiles are
/// monotone in γ, and so is their mean).
///
/// A batch's percentile P_p is linear interpolation between order statistics, numpy's / torch.quantile's default
/// (h = (n − 1)p; <see cref="Kernels.Selection.Quantile"/>), found by quickselect on a scratch copy, not by a sort.
/// </summary>
public sealed class PercentileObserver : RangeObserver
{
    private double _sumLo, _sumHi;

    public PercentileObserver(double gamma = 0.999)
    {
        if (!(gamma >= 0.5 && gamma <= 1.0))
            throw new ArgumentOutOfRangeException(nameof(gamma), $"Percentile γ = {gamma} must be in [0.5, 1] (the range is the (1 − γ) and γ percentiles).");
        Gamma = gamma;
    }

    /// <summary>γ: the range keeps the central fraction 2γ − 1 of each batch's values.</summary>
    public double Gamma { get; }

    protected override void ObserveBatch(ReadOnlySpan<float> x)
    {
        var scratch = TensorPool.Rent(x.Length);
        try
        {
            var s = scratch.AsSpan(0, x.Length);
            x.CopyTo(s);
            var (mn, mx) = (System.Numerics.Tensors.TensorPrimitives.Min(s), System.Numerics.Tensors.TensorPrimitives.Max(s));
            CheckNotNaN(mn, mx); // selection needs a total order
            var (lo, hi) = Kernels.Selection.QuantilePair(s, 1.0 - Gamma, Gamma);
            _sumLo += lo;
            _sumHi += hi;
        }
        finally
        {
            TensorPool.Return(scratch);
        }
    }

    protected override (float Min, float Max) CurrentRange() => ((float)(_sumLo / Batches), (float)(_sumHi / Batches));

    public override void Reset()
    {
        base.Reset();
        _sumLo = _sumHi = 0;
    }
}
