namespace Nanoq.Quant.Observers;

/// <summary>
/// Percentile calibration (the paper's P, DESIGN.md §5.7): the range is the (1 − γ) and γ percentiles of the
/// activation's values, which drops the rare outliers that would otherwise stretch a 4-bit grid (γ = 0.999 by default).
///
/// Aggregation over the n_cal batches: each call's two percentiles are computed over all of that call's values; a
/// batch's are the mean over its calls (a shared head runs once a pyramid level: each level weighs the same within the
/// batch), and the range is the arithmetic mean over batches, so each batch weighs once however many calls it had
/// (accumulated in double):
/// <code>
///     lb = (1/B) Σ_b (1/L_b) Σ_l P_{1−γ}(x_bl),   ub = (1/B) Σ_b (1/L_b) Σ_l P_γ(x_bl)
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
    private double _sumLo, _sumHi;        // over closed batches
    private double _callLo, _callHi;      // over the open batch's calls
    private int _calls;

    public PercentileObserver(double gamma = 0.999)
    {
        if (!(gamma >= 0.5 && gamma <= 1.0))
            throw new ArgumentOutOfRangeException(nameof(gamma), $"Percentile γ = {gamma} must be in [0.5, 1] (the range is the (1 − γ) and γ percentiles).");
        Gamma = gamma;
    }

    /// <summary>γ: the range keeps the central fraction 2γ − 1 of each batch's values.</summary>
    public double Gamma { get; }

    protected override void ObserveCall(ReadOnlySpan<float> x, bool firstOfBatch)
    {
        var scratch = TensorPool.Rent(x.Length);
        try
        {
            var s = scratch.AsSpan(0, x.Length);
            x.CopyTo(s);
            var (mn, mx) = (System.Numerics.Tensors.TensorPrimitives.Min(s), System.Numerics.Tensors.TensorPrimitives.Max(s));
            CheckNotNaN(mn, mx); // selection needs a total order
            var (lo, hi) = Kernels.Selection.QuantilePair(s, 1.0 - Gamma, Gamma);
            _callLo += lo;
            _callHi += hi;
            _calls++;
        }
        finally
        {
            TensorPool.Return(scratch);
        }
    }

    protected override void CloseBatch(int calls)
    {
        // One call a batch (the common case) adds its percentiles exactly as they are.
        _sumLo += _calls == 1 ? _callLo : _callLo / _calls;
        _sumHi += _calls == 1 ? _callHi : _callHi / _calls;
        _closed++;
        _callLo = _callHi = 0;
        _calls = 0;
    }

    private int _closed;

    protected override (float Min, float Max) CurrentRange()
    {
        // The open batch counts as one more batch with its calls' mean so far.
        double lo = _sumLo, hi = _sumHi;
        int b = _closed;
        if (_calls > 0)
        {
            lo += _calls == 1 ? _callLo : _callLo / _calls;
            hi += _calls == 1 ? _callHi : _callHi / _calls;
            b++;
        }
        if (b == 0) return Stored; // restored from a state dict
        return ((float)(lo / b), (float)(hi / b));
    }

    public override void Reset()
    {
        base.Reset();
        _sumLo = _sumHi = _callLo = _callHi = 0;
        _calls = _closed = 0;
    }
}
