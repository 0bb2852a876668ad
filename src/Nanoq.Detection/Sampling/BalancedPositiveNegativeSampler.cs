namespace Nanoq.Detection;

/// <summary>
/// Picks the training examples of one image with a fixed share of positives: torchvision's
/// <c>det_utils.BalancedPositiveNegativeSampler</c> (0.14), shared by the RPN (256 anchors, 50%) and the RoI heads
/// (512 proposals, 25%). Labels: ≥ 1 positive, 0 negative, anything else (−1) ignored.
/// <code>
///   num_pos = min(|positives|, (int)(batch_size_per_image · positive_fraction))
///   num_neg = min(|negatives|, batch_size_per_image − num_pos)
/// </code>
/// then num_pos positives and num_neg negatives uniformly at random without replacement. torchvision draws with
/// torch.randperm; this draws with Nanoq's seeded <see cref="Rng"/> (a partial Fisher–Yates), so the choice is
/// reproducible from the seed but not torch's; tests that compare with torchvision feed its recorded indices.
/// Results are index lists, ascending — the order torchvision's masks give after <c>torch.where</c>.
/// </summary>
public sealed class BalancedPositiveNegativeSampler
{
    public BalancedPositiveNegativeSampler(int batchSizePerImage, double positiveFraction)
    {
        if (batchSizePerImage < 0) throw new ArgumentOutOfRangeException(nameof(batchSizePerImage), "batch_size_per_image must be non-negative.");
        if (!(positiveFraction >= 0 && positiveFraction <= 1)) throw new ArgumentOutOfRangeException(nameof(positiveFraction), "positive_fraction must be in [0, 1].");
        BatchSizePerImage = batchSizePerImage;
        PositiveFraction = positiveFraction;
    }

    /// <summary>The RPN's sampler: 256 anchors an image, half positive.</summary>
    public static BalancedPositiveNegativeSampler Rpn() => new(256, 0.5);

    /// <summary>The RoI heads' sampler: 512 proposals an image, a quarter positive.</summary>
    public static BalancedPositiveNegativeSampler RoiHeads() => new(512, 0.25);

    public int BatchSizePerImage { get; }
    public double PositiveFraction { get; }

    /// <summary>The sampled positive and negative indices of one image's labels, each ascending.</summary>
    public (int[] Positive, int[] Negative) Sample(ReadOnlySpan<int> labels, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        var positive = new List<int>();
        var negative = new List<int>();
        for (int i = 0; i < labels.Length; i++)
        {
            if (labels[i] >= 1) positive.Add(i);
            else if (labels[i] == 0) negative.Add(i);
        }
        int numPos = Math.Min(positive.Count, (int)(BatchSizePerImage * PositiveFraction));
        int numNeg = Math.Min(negative.Count, BatchSizePerImage - numPos);
        return (Choose(positive, numPos, rng), Choose(negative, numNeg, rng));
    }

    /// <summary>k of the candidates uniformly without replacement (the first k of a partial Fisher–Yates), ascending.</summary>
    private static int[] Choose(List<int> candidates, int k, Rng rng)
    {
        var a = candidates.ToArray();
        for (int i = 0; i < k; i++)
        {
            int j = rng.NextInt(i, a.Length);
            (a[i], a[j]) = (a[j], a[i]);
        }
        var chosen = a[..k];
        Array.Sort(chosen);
        return chosen;
    }
}
