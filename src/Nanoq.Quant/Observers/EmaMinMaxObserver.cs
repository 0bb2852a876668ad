using System.Numerics.Tensors;

namespace Nanoq.Quant.Observers;

/// <summary>
/// Exponential moving averages of the batch minimum and maximum (Jacob et al. 2018, §3.1 "exponential moving averages
/// (EMA) … smoothed across thousands of training steps"; PyTorch's <c>MovingAverageMinMaxObserver</c>):
/// <code>
///     first batch:   min = min x,                     max = max x
///     then:          min ← min + c · (min x − min),   max ← max + c · (max x − max)
/// </code>
/// with c = <see cref="Momentum"/> the weight of the new batch (PyTorch's <c>averaging_constant</c>, default 0.01;
/// the same convention as batch norm's momentum: Jacob et al.'s decay is 1 − c). Arithmetic in float32, in
/// PyTorch's order, so ranges agree with it bit for bit.
/// </summary>
public sealed class EmaMinMaxObserver : RangeObserver
{
    private float _min, _max;

    public EmaMinMaxObserver(float momentum = 0.01f)
    {
        if (!(momentum > 0f && momentum <= 1f))
            throw new ArgumentOutOfRangeException(nameof(momentum), $"EMA momentum {momentum} must be in (0, 1].");
        Momentum = momentum;
    }

    /// <summary>c, the weight of each new batch.</summary>
    public float Momentum { get; }

    protected override void ObserveBatch(ReadOnlySpan<float> x)
    {
        float lo = TensorPrimitives.Min(x), hi = TensorPrimitives.Max(x);
        CheckNotNaN(lo, hi);
        if (Batches == 0)
        {
            _min = lo;
            _max = hi;
        }
        else
        {
            _min += Momentum * (lo - _min);
            _max += Momentum * (hi - _max);
        }
    }

    protected override (float Min, float Max) CurrentRange() => (_min, _max);
}
