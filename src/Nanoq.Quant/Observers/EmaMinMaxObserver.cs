using System.Numerics.Tensors;

namespace Nanoq.Quant.Observers;

/// <summary>
/// Exponential moving averages of the batch minimum and maximum (Jacob et al. 2018, §3.1 "exponential moving averages
/// (EMA) … smoothed across thousands of training steps"; PyTorch's <c>MovingAverageMinMaxObserver</c>):
/// <code>
///     first call:    min = min x,                     max = max x
///     then:          min ← min + c · (min x − min),   max ← max + c · (max x − max)
/// </code>
/// with c = <see cref="Momentum"/> the weight of the new call (PyTorch's <c>averaging_constant</c>, default 0.01;
/// the same convention as batch norm's momentum: Jacob et al.'s decay is 1 − c). Arithmetic in float32, in
/// PyTorch's order, so ranges agree with it bit for bit. Every call is one update: a shared layer's calls on one batch
/// are successive updates, as PyTorch's observer would see them. The averages live in the buffers, so a restored
/// observer continues where it stopped.
/// </summary>
public sealed class EmaMinMaxObserver : RangeObserver
{
    public EmaMinMaxObserver(float momentum = 0.01f)
    {
        if (!(momentum > 0f && momentum <= 1f))
            throw new ArgumentOutOfRangeException(nameof(momentum), $"EMA momentum {momentum} must be in (0, 1].");
        Momentum = momentum;
    }

    /// <summary>c, the weight of each new call.</summary>
    public float Momentum { get; }

    protected override void ObserveCall(ReadOnlySpan<float> x, bool firstOfBatch)
    {
        float lo = TensorPrimitives.Min(x), hi = TensorPrimitives.Max(x);
        CheckNotNaN(lo, hi);
        if (Empty)
        {
            Stored = (lo, hi);
            return;
        }
        var (min, max) = Stored;
        min += Momentum * (lo - min);
        max += Momentum * (hi - max);
        Stored = (min, max);
    }

    protected override (float Min, float Max) CurrentRange() => Stored;
}
