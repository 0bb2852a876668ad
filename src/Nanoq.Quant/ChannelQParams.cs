namespace Nanoq.Quant;

/// <summary>
/// Per-channel quantizer parameters (the paper's C, eq. 9–10): one scale Δ_c and zero point z_c for each index c
/// of <see cref="Axis"/>, all with the same bit width. Channel c is quantized exactly as a per-tensor
/// <see cref="QParams"/> (<see cref="this[int]"/>) applied to its slice — PyTorch's per_channel_affine.
/// Immutable: the arrays are copies.
/// </summary>
public sealed class ChannelQParams
{
    private readonly float[] _scales;
    private readonly int[] _zeroPoints;

    public ChannelQParams(ReadOnlySpan<float> scales, ReadOnlySpan<int> zeroPoints, int bits, int axis)
    {
        QuantBits.Check(bits, nameof(ChannelQParams));
        if (scales.Length != zeroPoints.Length)
            throw new ArgumentException($"ChannelQParams: {scales.Length} scales but {zeroPoints.Length} zero points.");
        if (scales.Length == 0) throw new ArgumentException("ChannelQParams: at least one channel is needed.");
        ArgumentOutOfRangeException.ThrowIfNegative(axis);
        for (int c = 0; c < scales.Length; c++) _ = new QParams(scales[c], zeroPoints[c], bits); // validates each channel
        _scales = scales.ToArray();
        _zeroPoints = zeroPoints.ToArray();
        Bits = bits;
        Axis = axis;
    }

    public int Bits { get; }

    /// <summary>The channel axis (0 for conv weights [out, in, kh, kw]); non-negative.</summary>
    public int Axis { get; }

    public int Channels => _scales.Length;

    public int QMax => (1 << Bits) - 1;

    public ReadOnlySpan<float> Scales => _scales;

    public ReadOnlySpan<int> ZeroPoints => _zeroPoints;

    /// <summary>The per-tensor parameters of channel <paramref name="c"/>.</summary>
    public QParams this[int c] => new(_scales[c], _zeroPoints[c], Bits);

    /// <summary><see cref="QParams.FromRange"/> channel by channel (same float32 arithmetic as PyTorch's per-channel observer).</summary>
    public static ChannelQParams FromRanges(ReadOnlySpan<float> lb, ReadOnlySpan<float> ub, int bits, int axis)
    {
        if (lb.Length != ub.Length) throw new ArgumentException($"ChannelQParams.FromRanges: {lb.Length} lower bounds but {ub.Length} upper bounds.");
        var s = new float[lb.Length];
        var z = new int[lb.Length];
        for (int c = 0; c < lb.Length; c++)
        {
            var q = QParams.FromRange(lb[c], ub[c], bits);
            s[c] = q.Scale;
            z[c] = q.ZeroPoint;
        }
        return new ChannelQParams(s, z, bits, axis);
    }

    /// <summary>Per-channel min/max of <paramref name="x"/> along <paramref name="axis"/> (eq. 9–10), then <see cref="FromRanges"/>.</summary>
    public static ChannelQParams FromTensor(Tensor x, int bits, int axis = 0)
    {
        axis = x.Shape.Axis(axis);
        int channels = x.Shape[axis];
        var lo = new float[channels];
        var hi = new float[channels];
        Kernels.RangeKernels.MinMaxPerChannel(x.Span, x.Shape.SizeOf(0, axis), channels, x.Shape.SizeOf(axis + 1, x.Rank), lo, hi);
        return FromRanges(lo, hi, bits, axis);
    }

    /// <summary>lb'_c = −z_c·Δ_c for every channel.</summary>
    public float[] Lb()
    {
        var r = new float[Channels];
        for (int c = 0; c < r.Length; c++) r[c] = this[c].Lb;
        return r;
    }

    /// <summary>ub'_c = (2^k − 1 − z_c)·Δ_c for every channel.</summary>
    public float[] Ub()
    {
        var r = new float[Channels];
        for (int c = 0; c < r.Length; c++) r[c] = this[c].Ub;
        return r;
    }

    public override string ToString() => $"ChannelQParams({Channels} channels on axis {Axis}, {Bits} bits)";
}
