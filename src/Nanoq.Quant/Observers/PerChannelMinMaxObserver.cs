namespace Nanoq.Quant.Observers;

/// <summary>
/// Running per-channel extremes along <see cref="Axis"/> (PyTorch's <c>PerChannelMinMaxObserver</c>):
/// min_c ← min(min_c, min over x[…, c, …]), likewise max_c; the first batch fixes the channel count.
/// Weights use their own current min/max each step (eq. 9–10); this observer exists for per-channel activation
/// experiments and for parity with PyTorch's qparams.
/// </summary>
public sealed class PerChannelMinMaxObserver
{
    private float[]? _min, _max;

    public PerChannelMinMaxObserver(int axis = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(axis);
        Axis = axis;
    }

    public int Axis { get; }

    public int Batches { get; private set; }

    public void Observe(Tensor x)
    {
        if (x.Size == 0) return;
        int axis = x.Shape.Axis(Axis), c = x.Shape[axis];
        if (_min is not null && _min.Length != c)
            throw new ArgumentException($"PerChannelMinMaxObserver: {c} channels on axis {axis}, earlier batches had {_min.Length}.");
        var lo = new float[c];
        var hi = new float[c];
        Kernels.RangeKernels.MinMaxPerChannel(x.Span, x.Shape.SizeOf(0, axis), c, x.Shape.SizeOf(axis + 1, x.Rank), lo, hi);
        if (_min is null || _max is null)
        {
            _min = lo;
            _max = hi;
        }
        else
            for (int i = 0; i < c; i++)
            {
                _min[i] = MathF.Min(_min[i], lo[i]);
                _max[i] = MathF.Max(_max[i], hi[i]);
            }
        Batches++;
    }

    /// <summary>Copies of the per-channel ranges; throws if nothing was observed.</summary>
    public (float[] Min, float[] Max) Range =>
        _min is null || _max is null
            ? throw new InvalidOperationException("PerChannelMinMaxObserver: no batch observed yet, so there is no range.")
            : ((float[])_min.Clone(), (float[])_max.Clone());

    public ChannelQParams QParams(int bits)
    {
        var (lo, hi) = Range;
        return ChannelQParams.FromRanges(lo, hi, bits, Axis);
    }

    public void Reset()
    {
        _min = _max = null;
        Batches = 0;
    }
}
