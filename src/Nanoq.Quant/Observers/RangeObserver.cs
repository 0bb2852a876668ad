namespace Nanoq.Quant.Observers;

/// <summary>
/// Watches the values an activation takes, batch by batch, and summarizes them as a range [min, max] from which
/// <see cref="QParams.FromRange"/> makes the quantizer (PyTorch's <c>torch.ao.quantization.observer</c>).
/// Empty batches are ignored, as PyTorch's observers do; NaN is an error (a diverged model has no range).
/// </summary>
public abstract class RangeObserver
{
    /// <summary>Non-empty batches seen since construction or <see cref="Reset"/>.</summary>
    public int Batches { get; private set; }

    /// <summary>Records one batch of values.</summary>
    public void Observe(Tensor x) => Observe(x.Span);

    /// <summary>Records one batch of values.</summary>
    public void Observe(ReadOnlySpan<float> x)
    {
        if (x.IsEmpty) return;
        ObserveBatch(x);
        Batches++;
    }

    /// <summary>Folds one non-empty batch into the state; <see cref="Batches"/> still counts the previous ones.</summary>
    protected abstract void ObserveBatch(ReadOnlySpan<float> x);

    /// <summary>The summarized range; throws if nothing was observed.</summary>
    public (float Min, float Max) Range
    {
        get
        {
            if (Batches == 0) throw new InvalidOperationException($"{GetType().Name}: no batch observed yet, so there is no range.");
            return CurrentRange();
        }
    }

    protected abstract (float Min, float Max) CurrentRange();

    /// <summary>The k-bit affine quantizer of <see cref="Range"/>.</summary>
    public QParams QParams(int bits)
    {
        var (lo, hi) = Range;
        return Quant.QParams.FromRange(lo, hi, bits);
    }

    /// <summary>Forgets every batch.</summary>
    public virtual void Reset() => Batches = 0;

    /// <summary>Throws (naming the observer) if a batch contains NaN; min/max carry NaN, so checking them suffices.</summary>
    protected void CheckNotNaN(float min, float max)
    {
        if (float.IsNaN(min) || float.IsNaN(max))
            throw new ArgumentException($"{GetType().Name}: batch {Batches + 1} contains NaN; the model's activations have diverged.");
    }
}
