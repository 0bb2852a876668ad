using Nanoq.Coco.Imaging;

namespace Nanoq.Coco.Data;

/// <summary>
/// One transformed image and its targets. <see cref="Image"/> is float CHW (3 × Height × Width) after
/// normalization; <see cref="Boxes"/> are xyxy in pixels of that transformed image (not clipped);
/// <see cref="FromOriginal"/> carries original-image boxes to it and <see cref="ToOriginal"/> carries predictions back.
/// Crowd regions are kept with <see cref="IsCrowd"/> set; detectors usually ignore them in training.
/// </summary>
public sealed record DetectionSample(
    long ImageId,
    float[] Image,
    int Width,
    int Height,
    XyxyBox[] Boxes,
    int[] Labels,
    bool[] IsCrowd,
    int OriginalWidth,
    int OriginalHeight,
    BoxMap FromOriginal,
    bool Flipped)
{
    public BoxMap ToOriginal => FromOriginal.Inverse();
}
