namespace Nanoq.Detection;

/// <summary>
/// Which FPN level pools a RoI: torchvision's <c>poolers.LevelMapper</c> (0.14), the heuristic of the FPN paper (eq. 1),
/// in float32 as torchvision computes it:
/// <code>
///   s = sqrt(box_area)                                  (image pixels)
///   k = floor(k0 + log2(s / s0) + eps)                  k0 = 4, s0 = 224, eps = 1e-6
///   level = clamp(k, k_min, k_max) − k_min              (an index into the pooled feature maps)
/// </code>
/// eps is added after the log, so a box of exactly 112² lands on k0 − 1, not below. A NaN size (an inverted box has
/// negative area) maps to k_min: torch casts NaN to an undefined integer there; we pick the finest level.
/// </summary>
public sealed class LevelMapper
{
    public LevelMapper(int kMin, int kMax, int canonicalScale = 224, int canonicalLevel = 4, float eps = 1e-6f)
    {
        if (kMin > kMax) throw new ArgumentException($"LevelMapper: k_min {kMin} > k_max {kMax}.");
        if (canonicalScale <= 0) throw new ArgumentOutOfRangeException(nameof(canonicalScale), "LevelMapper: the canonical scale must be positive.");
        KMin = kMin; KMax = kMax; CanonicalScale = canonicalScale; CanonicalLevel = canonicalLevel; Eps = eps;
    }

    public int KMin { get; }
    public int KMax { get; }
    public int CanonicalScale { get; }
    public int CanonicalLevel { get; }
    public float Eps { get; }

    /// <summary>The number of levels, k_max − k_min + 1.</summary>
    public int NumLevels => KMax - KMin + 1;

    /// <summary>The level index (0 = k_min) of one box (x1, y1, x2, y2).</summary>
    public int Level(float x1, float y1, float x2, float y2)
    {
        float s = MathF.Sqrt((x2 - x1) * (y2 - y1));
        float k = MathF.Floor(CanonicalLevel + MathF.Log2(s / CanonicalScale) + Eps);
        if (float.IsNaN(k)) return 0;
        k = MathF.Min(MathF.Max(k, KMin), KMax);
        return (int)k - KMin;
    }

    /// <summary>Level indices of n boxes (flat 4n floats).</summary>
    public void Map(ReadOnlySpan<float> boxes, Span<int> levels)
    {
        int n = Boxes.Count(boxes, nameof(boxes));
        if (levels.Length != n) throw new ArgumentException($"LevelMapper: {n} boxes need {n} levels, got {levels.Length}.");
        for (int i = 0; i < n; i++) levels[i] = Level(boxes[4 * i], boxes[4 * i + 1], boxes[4 * i + 2], boxes[4 * i + 3]);
    }

    /// <summary>Level indices of n boxes.</summary>
    public int[] Map(ReadOnlySpan<float> boxes)
    {
        var levels = new int[Boxes.Count(boxes, nameof(boxes))];
        Map(boxes, levels);
        return levels;
    }
}
