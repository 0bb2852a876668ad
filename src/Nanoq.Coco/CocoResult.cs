namespace Nanoq.Coco;

/// <summary>
/// One detection in COCO's results format (<c>{image_id, category_id, bbox, score}</c>).
/// As in pycocotools' loadRes, its area for the area ranges is <c>bbox.w × bbox.h</c> and it is never a crowd.
/// </summary>
public sealed record CocoResult(long ImageId, long CategoryId, CocoBox Bbox, double Score)
{
    /// <summary>A result from a float xyxy box in original-image pixels (the detector side of the edge).</summary>
    public static CocoResult FromXyxy(long imageId, long categoryId, XyxyBox box, float score) =>
        new(imageId, categoryId, CocoBox.FromXyxy(box), CocoBox.ShortestDouble(score));
}
