namespace Nanoq.Detection;

/// <summary>
/// One image's sampled RoIs for the box head (torchvision's <c>select_training_samples</c> output):
/// <see cref="Proposals"/> flat [S·4], <see cref="MatchedIdxs"/> the ground truth each was matched to (clamped to ≥ 0),
/// <see cref="Classes"/> the predictor class (0 background, c + 1 for the target's label c), and
/// <see cref="RegressionTargets"/> [S·4] from BoxCoder(10, 10, 5, 5) (meaningful only where Classes &gt; 0).
/// </summary>
public sealed record RoiHeadSamples(float[] Proposals, int[] MatchedIdxs, int[] Classes, float[] RegressionTargets)
{
    public int Count => Classes.Length;
}
