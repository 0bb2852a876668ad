using System.Numerics.Tensors;

namespace Nanoq.Quant.Observers;

/// <summary>
/// The running extremes over every batch (PyTorch's <c>MinMaxObserver</c>):
/// <code>
///     min ← min(min, min x),   max ← max(max, max x)
/// </code>
/// The first batch initializes both (they start at +∞ / −∞).
/// </summary>
public sealed class MinMaxObserver : RangeObserver
{
    private float _min = float.PositiveInfinity, _max = float.NegativeInfinity;

    protected override void ObserveBatch(ReadOnlySpan<float> x)
    {
        float lo = TensorPrimitives.Min(x), hi = TensorPrimitives.Max(x);
        CheckNotNaN(lo, hi);
        _min = MathF.Min(_min, lo);
        _max = MathF.Max(_max, hi);
    }

    protected override (float Min, float Max) CurrentRange() => (_min, _max);

    public override void Reset()
    {
        base.Reset();
        _min = float.PositiveInfinity;
        _max = float.NegativeInfinity;
    }
}
