using Nanoq.Nn;

namespace Nanoq.Quant.Observers;

/// <summary>
/// Watches the values an activation takes and summarizes them as a range [min, max] from which
/// <see cref="QParams.FromRange"/> makes the quantizer (PyTorch's <c>torch.ao.quantization.observer</c>). A module: its
/// state — the range so far (buffers <c>min_val</c>, <c>max_val</c>) and the number of batches (<c>batches</c>) — is in
/// the state dict of the quantizer that owns it.
/// <para>
/// <b>Calls and batches.</b> A layer may run several times on one batch (RetinaNet's shared head runs once per pyramid
/// level). Between <see cref="BeginBatch"/> and <see cref="EndBatch"/>, each <see cref="Observe(ReadOnlySpan{float})"/>
/// records one call of the batch; outside them each call is a batch of its own (a plain observer, as PyTorch's). How
/// calls combine within a batch is the observer's rule (documented on each); across batches each batch weighs the
/// same, however many calls it had. Empty calls are ignored, as PyTorch's observers do; NaN is an error (a diverged model has
/// no range).
/// </para>
/// </summary>
public abstract class RangeObserver : Module
{
    private readonly Tensor _min, _max, _batches;
    private int _callsInBatch;
    private bool _batchOpen;

    protected RangeObserver()
    {
        _min = Buffer("min_val", Tensor.Zeros(1)); // meaningful once a call was seen (checkpoints refuse ±∞, so no sentinel)
        _max = Buffer("max_val", Tensor.Zeros(1));
        _batches = Buffer("batches", Tensor.Zeros(1));
    }

    /// <summary>Batches closed since construction or <see cref="Reset"/> (plus the open one, if it saw a call).</summary>
    public int Batches => (int)_batches.Span[0] + (_callsInBatch > 0 ? 1 : 0);

    /// <summary>Records one call's values.</summary>
    public void Observe(Tensor x) => Observe(x.Span);

    /// <summary>Records one call's values.</summary>
    public void Observe(ReadOnlySpan<float> x)
    {
        if (x.IsEmpty) return;
        ObserveCall(x, _callsInBatch == 0);
        _callsInBatch++;
        if (_batchOpen) PublishRange();
        else EndBatch();
    }

    /// <summary>Opens a batch: the calls until <see cref="EndBatch"/> are its calls.</summary>
    public void BeginBatch()
    {
        EndBatch();
        _batchOpen = true;
    }

    /// <summary>Closes the current batch (no-op if it saw no call).</summary>
    public void EndBatch()
    {
        _batchOpen = false;
        if (_callsInBatch == 0) return;
        CloseBatch(_callsInBatch);
        _callsInBatch = 0;
        _batches.Span[0] += 1;
        PublishRange();
    }

    /// <summary>Folds one non-empty call into the state; <paramref name="firstOfBatch"/> says whether it opens a batch.</summary>
    protected abstract void ObserveCall(ReadOnlySpan<float> x, bool firstOfBatch);

    /// <summary>Folds the open batch of <paramref name="calls"/> calls into the running state (default: nothing to do).</summary>
    protected virtual void CloseBatch(int calls) { }

    /// <summary>The summarized range; throws if nothing was observed.</summary>
    public (float Min, float Max) Range
    {
        get
        {
            if (Batches == 0) throw new InvalidOperationException($"{GetType().Name}: no batch observed yet, so there is no range.");
            return (_min.Span[0], _max.Span[0]);
        }
    }

    /// <summary>The range as the state stands (closed batches, and the open one where the rule allows).</summary>
    protected abstract (float Min, float Max) CurrentRange();

    private void PublishRange()
    {
        var (lo, hi) = CurrentRange();
        _min.Span[0] = lo;
        _max.Span[0] = hi;
    }

    /// <summary>The k-bit affine quantizer of <see cref="Range"/>.</summary>
    public QParams QParams(int bits)
    {
        var (lo, hi) = Range;
        return Quant.QParams.FromRange(lo, hi, bits);
    }

    /// <summary>Forgets every batch.</summary>
    public virtual void Reset()
    {
        _batches.Span[0] = 0;
        _callsInBatch = 0;
        _batchOpen = false;
        _min.Span[0] = 0f;
        _max.Span[0] = 0f;
    }

    /// <summary>Throws (naming the observer) if a call contains NaN; min/max carry NaN, so checking them suffices.</summary>
    protected void CheckNotNaN(float min, float max)
    {
        if (float.IsNaN(min) || float.IsNaN(max))
            throw new ArgumentException($"{GetType().Name}: batch {Batches + 1} contains NaN; the model's activations have diverged.");
    }

    /// <summary>Whether no call has been recorded since construction or <see cref="Reset"/> (the buffers hold no range yet).</summary>
    protected bool Empty => _batches.Span[0] == 0 && _callsInBatch == 0;

    /// <summary>The range in the buffers (what a restored observer continues from); observers that keep no other state write it directly.</summary>
    protected (float Min, float Max) Stored
    {
        get => (_min.Span[0], _max.Span[0]);
        set
        {
            _min.Span[0] = value.Min;
            _max.Span[0] = value.Max;
        }
    }
}
