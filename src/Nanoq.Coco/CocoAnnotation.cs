namespace Nanoq.Coco;

/// <summary>
/// One ground-truth object of a COCO json's <c>annotations</c> list (bbox only; segmentations are not read).
/// <see cref="Area"/> is the json's own <c>area</c> field, which COCO evaluation uses for the small/medium/large
/// split even where it differs from the box area (COCO's is the mask area).
/// <see cref="IsCrowd"/> marks a crowd region: matching it is neither a hit nor a miss.
/// </summary>
public sealed record CocoAnnotation(long Id, long ImageId, long CategoryId, CocoBox Bbox, double Area, bool IsCrowd = false);
