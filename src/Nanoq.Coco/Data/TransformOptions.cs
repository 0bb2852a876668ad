using Nanoq.Coco.Imaging;

namespace Nanoq.Coco.Data;

/// <summary>
/// The loader's per-image pipeline: decode → resize (<see cref="Resize"/>) → random horizontal flip with
/// probability <see cref="FlipProbability"/> → normalize; <see cref="ResizeMode.Torchvision"/> instead flips,
/// normalizes, then resizes the floats, with <see cref="ShorterSide"/> and <see cref="MaxLongerSide"/> as
/// torchvision's min_size and max_size. Defaults are torchvision's RetinaNet ones (800/1333,
/// ImageNet mean/std, no flip); training sets FlipProbability = 0.5.
/// </summary>
public sealed record TransformOptions
{
    public ResizeMode Resize { get; init; } = ResizeMode.ShorterSide;
    public int ShorterSide { get; init; } = 800;
    public int MaxLongerSide { get; init; } = 1333;
    public int LetterboxWidth { get; init; } = 640;
    public int LetterboxHeight { get; init; } = 640;
    /// <summary>Letterbox padding colour before normalization (ImageNet's mean, which normalizes to ≈ 0).</summary>
    public (byte R, byte G, byte B) LetterboxPad { get; init; } = (124, 116, 104);
    public double FlipProbability { get; init; }
    public Normalizer Normalizer { get; init; } = Normalizer.ImageNet;
    public ImageLimits Limits { get; init; } = ImageLimits.Default;

    public static TransformOptions Default { get; } = new();
}
