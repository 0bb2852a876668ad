using Nanoq.Kernels.Integer;

namespace Nanoq.Kernels;

/// <summary>
/// The offline (float) half of the integer RoIAlign: turns float RoI boxes into an <see cref="IntRoiAlignPlan"/>
/// (pixel indices + Q22 weights) that <see cref="IntRoiAlign"/> runs on codes with integers only — gemmlowp's split
/// of offline and runtime work. RoI coordinates are box geometry computed in float like any postprocessing
/// (DESIGN.md §5, "Edges"), so the sampling geometry is float here and never in the runtime.
///
/// <para><b>Weights.</b> For every bin, the float kernel's sampling points (<see cref="RoiAlignSampling"/>, the same
/// float32 values as <see cref="RoiAlign.Forward"/>) give each input pixel p the ideal weight
/// a_p = Σ_{taps on p} w / count (in double); off-map points give nothing (their mass 1 − Σ a_p is real 0, code z).
/// Quantization to Q22 keeps the combination convex: W_p = ⌊a_p·2^22⌋, then the largest-remainder rule (ties to the
/// lower pixel index) adds single units until Σ W_p = min(2^22, round(Σ a_p·2^22)) — so a bin whose points all lie
/// on the map sums to exactly 2^22, and no bin exceeds it (float32 bilinear weights can sum to 1 + ulp). Each
/// W_p is within one unit (2^−22) of a_p. Taps of weight 0 are dropped.</para>
/// </summary>
public static class RoiAlignPlanner
{
    /// <summary>
    /// The plan for <paramref name="rois"/> ([K, 5]: batch index, x1, y1, x2, y2) on n maps of h × w, with
    /// <see cref="RoiAlign.Forward"/>'s parameters.
    /// </summary>
    public static IntRoiAlignPlan Build(ReadOnlySpan<float> rois, int n, int h, int w, int pooledH, int pooledW,
        float spatialScale, int samplingRatio, bool aligned)
    {
        RoiAlign.CheckSizes(0, rois.Length, 0, 0, 0, h, w, pooledH, pooledW, "RoiAlignPlanner.Build");
        int k = rois.Length / 5, bins = pooledH * pooledW;
        var batch = new int[k];
        var tapStart = new int[k * bins + 1];
        var tapIndex = new List<int>(k * bins * 4);
        var tapWeight = new List<int>(k * bins * 4);
        var samples = Array.Empty<RoiAlignSampling.Sample>();
        var pixels = new List<(int Pixel, double Weight)>();
        const double one = IntRoiAlignPlan.One;
        for (int r = 0; r < k; r++)
        {
            var roi = RoiAlignSampling.Geometry(rois.Slice(5 * r, 5), n, pooledH, pooledW, spatialScale, samplingRatio, aligned);
            batch[r] = roi.Batch;
            int per = roi.SamplesPerBin;
            if (samples.Length < per * bins) samples = new RoiAlignSampling.Sample[per * bins];
            RoiAlignSampling.Fill(roi, h, w, pooledH, pooledW, samples.AsSpan(0, per * bins));
            double count = roi.Count;
            for (int b = 0; b < bins; b++)
            {
                pixels.Clear();
                for (int i = b * per; i < (b + 1) * per; i++)
                {
                    var s = samples[i];
                    if (s.OffMap) continue;   // real 0: the zero point's share, no tap
                    pixels.Add((s.P1, s.W1 / count));
                    pixels.Add((s.P2, s.W2 / count));
                    pixels.Add((s.P3, s.W3 / count));
                    pixels.Add((s.P4, s.W4 / count));
                }
                Quantize(pixels, one, tapIndex, tapWeight);
                tapStart[r * bins + b + 1] = tapIndex.Count;
            }
        }
        return new IntRoiAlignPlan(k, pooledH, pooledW, h, w, batch, tapStart, tapIndex.ToArray(), tapWeight.ToArray());
    }

    /// <summary>Merges taps by pixel and appends their Q22 weights (largest remainder, see the class comment).</summary>
    private static void Quantize(List<(int Pixel, double Weight)> taps, double one, List<int> index, List<int> weight)
    {
        if (taps.Count == 0) return;
        taps.Sort((a, b) => a.Pixel.CompareTo(b.Pixel));
        int m = 0;
        for (int i = 0; i < taps.Count; i++)
        {
            if (m > 0 && taps[m - 1].Pixel == taps[i].Pixel) taps[m - 1] = (taps[m - 1].Pixel, taps[m - 1].Weight + taps[i].Weight);
            else taps[m++] = taps[i];
        }
        taps.RemoveRange(m, taps.Count - m);
        double total = 0;
        foreach (var t in taps) total += t.Weight;
        long target = Math.Min((long)one, (long)Math.Round(total * one, MidpointRounding.ToEven));
        var w = new long[m];
        var rem = new double[m];
        long sum = 0;
        for (int i = 0; i < m; i++)
        {
            double scaled = taps[i].Weight * one;
            w[i] = (long)Math.Floor(scaled);
            rem[i] = scaled - w[i];
            sum += w[i];
        }
        // Largest remainders first (ties: lower pixel) gain a unit; smallest first lose one if the floors overshoot.
        var order = new int[m];
        for (int i = 0; i < m; i++) order[i] = i;
        Array.Sort(order, (a, b) => rem[b] != rem[a] ? rem[b].CompareTo(rem[a]) : a.CompareTo(b));
        for (int i = 0; sum < target; i = (i + 1) % m) { w[order[i]]++; sum++; }
        for (int i = m - 1; sum > target; i = (i - 1 + m) % m)
            if (w[order[i]] > 0) { w[order[i]]--; sum--; }
        for (int i = 0; i < m; i++)
        {
            if (w[i] == 0) continue;
            index.Add(taps[i].Pixel);
            weight.Add((int)w[i]);
        }
    }
}
