using Nanoq.Coco.Imaging;

namespace Nanoq.Coco.Datasets;

/// <summary>One synthetic image and its objects: tight xyxy boxes in its pixels and COCO category ids.</summary>
public sealed record GeneratedImage(RgbImage Image, XyxyBox[] Boxes, long[] CategoryIds);
