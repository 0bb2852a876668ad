using Nanoq.Autograd;
using Nanoq.Kernels;
using Nanoq.Kernels.Integer;

namespace Nanoq.Detection;

/// <summary>
/// RoIAlign over a feature pyramid: torchvision's <c>ops.MultiScaleRoIAlign</c> (0.14) with Faster R-CNN's settings
/// (7×7, sampling ratio 2, aligned = false). Each RoI is pooled from one level, chosen by <see cref="LevelMapper"/>;
/// the levels' spatial scales and k_min / k_max are inferred from the feature and image sizes as torchvision's
/// <c>_setup_scales</c>:
/// <code>
///   scale_l = 2^round(log2(feature_h_l / image_h))   (float32 log2, half-to-even round; the height ratio decides)
///   k_min = (int) −log2(scale_first),  k_max = (int) −log2(scale_last)
/// </code>
/// where image_h / image_w are the largest of the batch's (unpadded) image sizes. With a single map every RoI pools
/// from it and no level is assigned. Boxes follow the contract of <see cref="Boxes"/>, in input-image pixels.
/// </summary>
public sealed class MultiScaleRoiAlign
{
    public MultiScaleRoiAlign(int pooledH = 7, int pooledW = 7, int samplingRatio = 2, int canonicalScale = 224, int canonicalLevel = 4)
    {
        if (pooledH <= 0 || pooledW <= 0) throw new ArgumentOutOfRangeException(nameof(pooledH), "MultiScaleRoiAlign: the output size must be positive.");
        PooledH = pooledH; PooledW = pooledW; SamplingRatio = samplingRatio;
        CanonicalScale = canonicalScale; CanonicalLevel = canonicalLevel;
    }

    public int PooledH { get; }
    public int PooledW { get; }
    public int SamplingRatio { get; }
    public int CanonicalScale { get; }
    public int CanonicalLevel { get; }

    /// <summary>
    /// torchvision's <c>_infer_scale</c> for one axis: 2^round(log2(feature / image)), the ratio rounded to float32
    /// before the log as <c>torch.tensor(approx_scale)</c> does.
    /// </summary>
    public static float InferScale(int featureSize, int imageSize)
    {
        float approx = (float)((double)featureSize / imageSize);
        return (float)Math.Pow(2.0, MathF.Round(MathF.Log2(approx)));
    }

    /// <summary>_setup_scales: per-level scales and the level mapper for maps of these sizes and these images.</summary>
    public (float[] Scales, LevelMapper Mapper) SetupScales(IReadOnlyList<(int Height, int Width)> featureSizes,
                                                            IReadOnlyList<(int Height, int Width)> imageSizes)
    {
        if (featureSizes.Count == 0) throw new ArgumentException("MultiScaleRoiAlign: no feature maps.");
        if (imageSizes.Count == 0) throw new ArgumentException("MultiScaleRoiAlign: images list should not be empty.");
        int maxH = 0;
        foreach (var (h, _) in imageSizes) maxH = Math.Max(maxH, h);
        var scales = new float[featureSizes.Count];
        for (int l = 0; l < scales.Length; l++) scales[l] = InferScale(featureSizes[l].Height, maxH);
        int kMin = (int)-MathF.Log2(scales[0]), kMax = (int)-MathF.Log2(scales[^1]);
        // torchvision assumes consecutive levels (each map half the previous); otherwise some levels index no map.
        if (scales.Length > 1 && kMax - kMin + 1 != scales.Length)
            throw new ArgumentException($"MultiScaleRoiAlign: {scales.Length} maps with scales {string.Join(", ", scales)} are not consecutive pyramid levels.");
        return (scales, new LevelMapper(kMin, kMax, CanonicalScale, CanonicalLevel));
    }

    /// <summary>
    /// The RoIs of a batch (<paramref name="boxesPerImage"/>[i]: flat 4·n_i floats) with their levels and scales.
    /// </summary>
    public RoiLevels AssignLevels(IReadOnlyList<float[]> boxesPerImage, IReadOnlyList<(int Height, int Width)> featureSizes,
                                  IReadOnlyList<(int Height, int Width)> imageSizes)
    {
        var (scales, mapper) = SetupScales(featureSizes, imageSizes);
        int total = 0;
        foreach (var b in boxesPerImage) total += Boxes.Count(b, nameof(boxesPerImage));
        var rois = new float[5 * total];
        var levels = new int[total];
        int k = 0;
        for (int i = 0; i < boxesPerImage.Count; i++)
        {
            var b = boxesPerImage[i];
            for (int j = 0; j < b.Length; j += 4, k++)
            {
                rois[5 * k] = i;
                rois[5 * k + 1] = b[j]; rois[5 * k + 2] = b[j + 1]; rois[5 * k + 3] = b[j + 2]; rois[5 * k + 4] = b[j + 3];
                levels[k] = featureSizes.Count == 1 ? 0 : mapper.Level(b[j], b[j + 1], b[j + 2], b[j + 3]);
            }
        }
        var perLevel = new List<int>[featureSizes.Count];
        for (int l = 0; l < perLevel.Length; l++) perLevel[l] = [];
        for (int r = 0; r < total; r++) perLevel[levels[r]].Add(r);
        return new RoiLevels(rois, levels, perLevel.Select(p => p.ToArray()).ToArray(), scales);
    }

    /// <summary>
    /// Pools the RoIs: <paramref name="features"/>[l] is [n, c, h_l, w_l] (finest first), the result
    /// [K, c, PH, PW] in the order of the concatenated boxes. Differentiable in the features.
    /// </summary>
    public Var Forward(IReadOnlyList<Var> features, IReadOnlyList<float[]> boxesPerImage, IReadOnlyList<(int Height, int Width)> imageSizes)
    {
        var sizes = features.Select(f => (f.Shape[2], f.Shape[3])).ToArray();
        var levels = AssignLevels(boxesPerImage, sizes, imageSizes);
        return Forward(features, levels);
    }

    /// <summary>
    /// Pools RoIs already split by <see cref="AssignLevels"/>. Under an <see cref="OpTrace"/> recorder this is one
    /// "roialign" op over all the levels (attributes: pooled h, pooled w, sampling ratio, aligned = 0) — its per-level
    /// pooling, concatenation and reordering hidden — so the integer program's structure does not depend on which levels
    /// the traced RoIs happened to use; the RoIs themselves are a side input there.
    /// </summary>
    public Var Forward(IReadOnlyList<Var> features, RoiLevels levels)
    {
        if (features.Count != levels.Scales.Length)
            throw new ArgumentException($"MultiScaleRoiAlign: {features.Count} feature maps for {levels.Scales.Length} scales.");
        if (OpTrace.Current is null) return Pool(features, levels);
        Var result;
        using (OpTrace.Hidden()) result = Pool(features, levels);
        OpTrace.Op("roialign", result, features, PooledH, PooledW, SamplingRatio, 0);
        return result;
    }

    private Var Pool(IReadOnlyList<Var> features, RoiLevels levels)
    {
        if (features.Count == 1 || levels.Count == 0)
            return Fn.RoiAlign(features[0], Tensor.FromArray(levels.Rois, levels.Count, 5), PooledH, PooledW, levels.Scales[0], SamplingRatio);
        var parts = new List<Var>();
        for (int l = 0; l < features.Count; l++)
        {
            if (levels.PerLevel[l].Length == 0) continue;
            var rois = Tensor.FromArray(levels.RoisOf(l), levels.PerLevel[l].Length, 5);
            parts.Add(Fn.RoiAlign(features[l], rois, PooledH, PooledW, levels.Scales[l], SamplingRatio));
        }
        var cat = parts.Count == 1 ? parts[0] : Fn.Concat(parts, 0);
        return Fn.IndexSelect(cat, 0, levels.InversePermutation());
    }

    /// <summary>
    /// The integer form: one <see cref="IntRoiAlignPlan"/> per level for that level's RoIs (float planning, done where
    /// the proposals are computed). Run level l with <c>IntRoiAlign.Forward(plans[l], codes_l, n, c, z, output,
    /// levels.PerLevel[l])</c> to scatter its rows into the [K, c, PH, PW] result. The rows of different levels land on
    /// one grid only if the levels share it (one (Δ, z) for the pooled FPN maps); otherwise each level's rows keep
    /// their own level's grid and the consumer must requantize them.
    /// </summary>
    public IntRoiAlignPlan[] BuildPlans(RoiLevels levels, IReadOnlyList<(int Height, int Width)> featureSizes, int batch)
    {
        if (featureSizes.Count != levels.Scales.Length)
            throw new ArgumentException($"MultiScaleRoiAlign: {featureSizes.Count} feature maps for {levels.Scales.Length} scales.");
        var plans = new IntRoiAlignPlan[featureSizes.Count];
        for (int l = 0; l < plans.Length; l++)
        {
            var rois = featureSizes.Count == 1 ? levels.Rois : levels.RoisOf(l);
            plans[l] = RoiAlignPlanner.Build(rois, batch, featureSizes[l].Height, featureSizes[l].Width, PooledH, PooledW,
                                             levels.Scales[l], SamplingRatio, aligned: false);
        }
        return plans;
    }
}
