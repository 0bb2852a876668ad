using System.Numerics;
using System.Numerics.Tensors;

namespace Nanoq.Quant.Kernels;

/// <summary>
/// Order statistics without a full sort (C++'s <c>std::nth_element</c>): the percentile observer needs two of them
/// per batch, over every activation value, and a sort would cost n log n where selection costs n.
///
/// Quickselect with a median-of-three pivot and a three-way (Dijkstra) partition — activations after a ReLU are
/// half zeros, and a two-way partition degrades to quadratic on many equal keys. After 2·log₂ n + 8 rounds without
/// finishing (an adversarial input) the remaining range is sorted instead (introselect), so the worst case is
/// n log n. Pivots are chosen by position, never at random: the same data always gives the same answer.
/// </summary>
public static class Selection
{
    /// <summary>
    /// Reorders <paramref name="data"/> so that data[k] is the k-th smallest value (0-based), everything before it is
    /// ≤ it and everything after it ≥ it; returns data[k]. The values must not be NaN.
    /// </summary>
    public static float Select(Span<float> data, int k)
    {
        if ((uint)k >= (uint)data.Length) throw new ArgumentOutOfRangeException(nameof(k), $"Select: rank {k} of {data.Length} values.");
        int lo = 0, hi = data.Length - 1; // inclusive window that contains rank k
        int budget = 2 * BitOperations.Log2((uint)data.Length) + 8;
        while (hi > lo)
        {
            if (budget-- == 0 || hi - lo < 16)
            {
                data[lo..(hi + 1)].Sort();
                break;
            }
            float pivot = MedianOfThree(data[lo], data[lo + (hi - lo) / 2], data[hi]);
            // Three-way partition of [lo, hi]: [lo, lt) < pivot, [lt, gt] == pivot, (gt, hi] > pivot.
            int lt = lo, i = lo, gt = hi;
            while (i <= gt)
            {
                float v = data[i];
                if (v < pivot) { (data[lt], data[i]) = (data[i], data[lt]); lt++; i++; }
                else if (v > pivot) { (data[gt], data[i]) = (data[i], data[gt]); gt--; }
                else i++;
            }
            if (k < lt) hi = lt - 1;
            else if (k > gt) lo = gt + 1;
            else return data[k];
        }
        return data[k];
    }

    /// <summary>
    /// The p-quantile of the values with linear interpolation between order statistics — numpy's and
    /// torch.quantile's default: h = (n − 1)·p, result = x₍⌊h⌋₎ + (h − ⌊h⌋)(x₍⌊h⌋+1₎ − x₍⌊h⌋₎), in double.
    /// Reorders <paramref name="data"/> (as <see cref="Select"/>).
    /// </summary>
    public static double Quantile(Span<float> data, double p)
    {
        if (data.IsEmpty) throw new ArgumentException("Quantile of no values.");
        if (!(p >= 0 && p <= 1)) throw new ArgumentOutOfRangeException(nameof(p), $"Quantile: p = {p} is outside [0, 1].");
        double h = (data.Length - 1) * p;
        int k = (int)Math.Floor(h);
        double lower = Select(data, k);
        double frac = h - k;
        if (frac == 0 || k + 1 >= data.Length) return lower;
        // Everything after position k is ≥ x₍k₎, so the next order statistic is their minimum.
        double upper = TensorPrimitives.Min(data[(k + 1)..]);
        return lower + frac * (upper - lower);
    }

    /// <summary>
    /// The (<paramref name="pLo"/>, <paramref name="pHi"/>) quantiles of the same values (pLo ≤ pHi), as two
    /// <see cref="Quantile"/> calls but with the second selection confined to the part above the first.
    /// </summary>
    public static (double Lo, double Hi) QuantilePair(Span<float> data, double pLo, double pHi)
    {
        if (!(pLo <= pHi)) throw new ArgumentException($"QuantilePair: {pLo} is above {pHi}.");
        double lo = Quantile(data, pLo);
        int kLo = (int)Math.Floor((data.Length - 1) * pLo);
        // data[kLo..] now holds exactly the order statistics kLo … n − 1, so rank r overall is rank r − kLo there.
        double h = (data.Length - 1) * pHi;
        int k = (int)Math.Floor(h);
        var tail = data[kLo..];
        double lower = Select(tail, k - kLo);
        double frac = h - k;
        if (frac == 0 || k + 1 >= data.Length) return (lo, lower);
        double upper = TensorPrimitives.Min(tail[(k - kLo + 1)..]);
        return (lo, lower + frac * (upper - lower));
    }

    private static float MedianOfThree(float a, float b, float c) =>
        a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
}
