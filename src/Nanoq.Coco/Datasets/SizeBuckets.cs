namespace Nanoq.Coco.Datasets;

/// <summary>
/// Target object areas for the three COCO size ranges (small &lt; 32², medium 32²..96², large &gt; 96²), drawn
/// log-uniformly inside each range with a margin from the edges so the final tight box stays in its range.
/// Which ranges an image of a given size can hold: medium needs ≥ 48 px, large ≥ 128 px.
/// </summary>
internal static class SizeBuckets
{
    public const int Small = 0, Medium = 1, Large = 2;

    public static int Available(int imageSize) => imageSize >= 128 ? 3 : imageSize >= 48 ? 2 : 1;

    /// <summary>
    /// Width and height for the bucket: a log-uniform area inside the range, an aspect ratio within [1/2, 2] (narrower
    /// when the image is too small for an elongated large object), each side at most 0.9 of the image.
    /// </summary>
    public static (double Width, double Height) Size(Rng rng, int bucket, int imageSize)
    {
        double maxSide = MaxSide(imageSize);
        var (lo, hi) = AreaRange(bucket, imageSize);
        double area = LogUniform(rng, lo, hi);
        double maxAspect = Math.Max(1, Math.Min(2, maxSide * maxSide / area));
        double aspect = Math.Exp(rng.Uniform(-Math.Log(maxAspect), Math.Log(maxAspect) + 1e-12));
        return (Math.Min(maxSide, Math.Sqrt(area * aspect)), Math.Min(maxSide, Math.Sqrt(area / aspect)));
    }

    /// <summary>The longest side an object may have: 0.9 of the image.</summary>
    public static double MaxSide(int imageSize) => 0.9 * imageSize;

    /// <summary>Target areas of a bucket, capped by what fits in the image.</summary>
    public static (double Lo, double Hi) AreaRange(int bucket, int imageSize)
    {
        double maxSide = MaxSide(imageSize);
        var (lo, hi) = bucket switch
        {
            Small => (10.0 * 10, 26.0 * 26),
            Medium => (38.0 * 38, 86.0 * 86),
            _ => (104.0 * 104, 240.0 * 240),
        };
        hi = Math.Min(hi, maxSide * maxSide);
        return (Math.Min(lo, hi), hi);
    }

    public static double LogUniform(Rng rng, double lo, double hi) =>
        Math.Exp(rng.Uniform(Math.Log(lo), Math.Log(hi) + 1e-12));

    /// <summary>
    /// Buckets for an image's objects, largest first (so later, smaller objects rarely trim a large one's box): one of
    /// each bucket the image size allows, the rest at random.
    /// </summary>
    public static int[] Plan(Rng rng, int count, int imageSize)
    {
        int available = Available(imageSize);
        var plan = new int[count];
        for (int i = 0; i < count; i++) plan[i] = i < available ? i : rng.NextInt(available);
        Array.Sort(plan, (a, b) => b.CompareTo(a));
        return plan;
    }
}
