using Nanoq.Nn;
using Nanoq.Nn.Taps;

namespace Nanoq.Onnx;

/// <summary>One conv layer's per-channel weight ranges against its per-tensor range (the data of FQN's Figure 2).</summary>
/// <param name="Name">the conv unit's tap path</param>
/// <param name="ChannelDb">per output channel c: 20·log10(R / r_c) ≥ 0, R the layer's per-tensor range, r_c the
/// channel's (both containing 0); +∞ for a channel of zeros</param>
/// <param name="SpreadDb">20·log10(max_c r_c / min_c r_c) over channels with r_c &gt; 0 (what <c>nanoq inspect</c>'s histogram counts)</param>
public sealed record LayerRangeRatios(string Name, double[] ChannelDb, double SpreadDb);

/// <summary>
/// FQN's argument for channel-wise weight quantization (Sec. 3.3, Figure 2): a per-tensor grid spans the whole layer's
/// range R = max(W, 0) − min(W, 0), so a channel whose own range r_c is 20 dB narrower (10×) sees its weights on a
/// tenth of the levels — at 4 bits, one or two. For each conv unit of a model this computes, per output channel,
/// 20·log10(R / r_c) in dB (0 dB: the channel spans the layer's range; larger: the channel loses log2(R / r_c) bits
/// under per-tensor quantization), with ranges that contain 0 as the quantization grids do (DESIGN.md §5.1).
/// Weights are taken with batch norm folded in (W·γ/√(σ² + ε), eq. 11: what gets quantized), unless
/// <c>foldBatchNorm</c> is false.
/// </summary>
public static class WeightRangeRatios
{
    /// <summary>Every conv unit of <paramref name="model"/>, in tap order.</summary>
    public static List<LayerRangeRatios> Compute(Module model, bool foldBatchNorm = true)
    {
        var result = new List<LayerRangeRatios>();
        foreach (var (name, tap) in model.NamedTaps())
        {
            if (tap is not ConvUnit unit) continue;
            var w = unit.Conv.Weight.Value;
            int outC = w.Shape[0];
            var perChannelScale = new float[outC];
            for (int c = 0; c < outC; c++)
                perChannelScale[c] = foldBatchNorm && unit.Bn is { } bn
                    ? bn.Weight.Value.Span[c] / MathF.Sqrt(bn.RunningVar.Span[c] + bn.Eps)
                    : 1f;
            result.Add(ForWeights(name, w.Span, outC, perChannelScale));
        }
        return result;
    }

    /// <summary>One layer from its weights [outC, …] (flat), each channel multiplied by <paramref name="channelScale"/> (null: 1).</summary>
    public static LayerRangeRatios ForWeights(string name, ReadOnlySpan<float> weights, int outChannels, float[]? channelScale = null)
    {
        int per = weights.Length / outChannels;
        var ranges = new double[outChannels];
        double lo = 0, hi = 0;
        for (int c = 0; c < outChannels; c++)
        {
            double s = channelScale?[c] ?? 1.0, mn = 0, mx = 0;
            foreach (float v in weights.Slice(c * per, per))
            {
                double x = v * s;
                if (x < mn) mn = x;
                if (x > mx) mx = x;
            }
            ranges[c] = mx - mn;
            lo = Math.Min(lo, mn);
            hi = Math.Max(hi, mx);
        }
        double layer = hi - lo;
        var db = ranges.Select(r => r > 0 ? 20 * Math.Log10(layer / r) : double.PositiveInfinity).ToArray();
        var positive = ranges.Where(r => r > 0).ToArray();
        double spread = positive.Length == 0 ? 0 : 20 * Math.Log10(positive.Max() / positive.Min());
        return new LayerRangeRatios(name, db, spread);
    }

    /// <summary>
    /// Counts of finite values in bins [k·binDb, (k + 1)·binDb), k = 0 … up to the largest value — the bars of Figure 2
    /// (values are ≥ 0 dB by construction; infinite ones, all-zero channels, are left out).
    /// </summary>
    public static (double Lo, double Hi, int Count)[] Histogram(IEnumerable<double> db, double binDb = 2)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(binDb);
        var v = db.Where(double.IsFinite).ToArray();
        if (v.Length == 0) return [];
        var counts = new int[(int)Math.Floor(Math.Max(0, v.Max()) / binDb) + 1];
        foreach (double x in v) counts[(int)Math.Floor(Math.Max(0, x) / binDb)]++;
        return counts.Select((c, k) => (k * binDb, (k + 1) * binDb, c)).ToArray();
    }

    /// <summary>The p-th percentile (0..100, linear interpolation between order statistics) of finite values.</summary>
    public static double Percentile(IEnumerable<double> values, double p)
    {
        var v = values.Where(double.IsFinite).Order().ToArray();
        if (v.Length == 0) return double.NaN;
        double pos = p / 100 * (v.Length - 1);
        int i = (int)Math.Floor(pos);
        return i + 1 < v.Length ? v[i] + (pos - i) * (v[i + 1] - v[i]) : v[i];
    }
}
