using System.Numerics.Tensors;

namespace Nanoq.Quant.Observers;

/// <summary>The running minimum and maximum of every value seen, over all calls and batches (PyTorch's <c>MinMaxObserver</c>).</summary>
public sealed class MinMaxObserver : RangeObserver
{
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
        Stored = (MathF.Min(min, lo), MathF.Max(max, hi));
    }

    protected override (float Min, float Max) CurrentRange() => Stored;
}
