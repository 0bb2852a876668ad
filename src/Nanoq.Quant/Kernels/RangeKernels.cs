using System.Numerics.Tensors;

namespace Nanoq.Quant.Kernels;

/// <summary>
/// Min/max reductions for observers and weight ranges (eq. 9–10). NaN is an error here rather than a value: a range
/// built from NaN would silently turn every later code into garbage, so the message says where it came from.
/// </summary>
public static class RangeKernels
{
    /// <summary>(min x, max x) of a non-empty span; throws on NaN.</summary>
    public static (float Min, float Max) MinMax(ReadOnlySpan<float> x)
    {
        if (x.IsEmpty) throw new ArgumentException("MinMax of an empty tensor: there is no range to quantize.");
        float lo = TensorPrimitives.Min(x), hi = TensorPrimitives.Max(x); // both propagate NaN
        if (float.IsNaN(lo) || float.IsNaN(hi)) throw new ArgumentException("MinMax: the tensor contains NaN.");
        return (lo, hi);
    }

    /// <summary>
    /// Per-channel min and max of x viewed as [outer, channels, inner] (the channel axis in the middle):
    /// lo[c] = min over every (o, i) of x[o, c, i], likewise hi. Throws on NaN or an empty channel.
    /// </summary>
    public static void MinMaxPerChannel(ReadOnlySpan<float> x, int outer, int channels, int inner, Span<float> lo, Span<float> hi)
    {
        if ((long)outer * channels * inner != x.Length)
            throw new ArgumentException($"MinMaxPerChannel: [{outer}, {channels}, {inner}] does not match {x.Length} elements.");
        if (lo.Length != channels || hi.Length != channels)
            throw new ArgumentException($"MinMaxPerChannel: outputs of {lo.Length}/{hi.Length} for {channels} channels.");
        if (outer == 0 || inner == 0) throw new ArgumentException("MinMaxPerChannel: a channel has no elements.");
        lo.Fill(float.PositiveInfinity);
        hi.Fill(float.NegativeInfinity);
        for (int o = 0; o < outer; o++)
            for (int c = 0; c < channels; c++)
            {
                var s = x.Slice((o * channels + c) * inner, inner);
                lo[c] = MathF.Min(lo[c], TensorPrimitives.Min(s));
                hi[c] = MathF.Max(hi[c], TensorPrimitives.Max(s));
            }
        for (int c = 0; c < channels; c++)
            if (float.IsNaN(lo[c]) || float.IsNaN(hi[c])) throw new ArgumentException($"MinMaxPerChannel: channel {c} contains NaN.");
    }
}
