using Nanoq.Coco.Imaging;

namespace Nanoq.Coco.Data;

/// <summary>
/// Collects a detector's outputs as COCO results: boxes in xyxy pixels of the transformed image, contiguous labels
/// and scores go in; boxes mapped back to the original image in COCO's [x, y, w, h], category ids and scores come out.
/// A box of negative or non-finite size is refused; an empty one (a detection clipped to the image border, which
/// torchvision's RetinaNet keeps) is a valid result, as in pycocotools.
/// </summary>
public sealed class CocoResultsBuilder(CategoryMap categories)
{
    private readonly List<CocoResult> _results = new();

    public IReadOnlyList<CocoResult> Results => _results;

    public void Add(long imageId, ReadOnlySpan<XyxyBox> boxes, ReadOnlySpan<int> labels, ReadOnlySpan<float> scores, BoxMap toOriginal)
    {
        if (labels.Length != boxes.Length || scores.Length != boxes.Length)
            throw new ArgumentException($"boxes, labels and scores differ in length ({boxes.Length}, {labels.Length}, {scores.Length})");
        for (int i = 0; i < boxes.Length; i++)
        {
            var r = CocoResult.FromXyxy(imageId, categories.CategoryId(labels[i]), toOriginal.Map(boxes[i]), scores[i]);
            if (!r.Bbox.IsValidResult || !double.IsFinite(r.Score))
                throw new ArgumentException($"detection {i} of image {imageId}: {CocoDataset.ResultBoxProblem(r.Bbox)}, score {r.Score}");
            _results.Add(r);
        }
    }

    /// <summary>Adds the detections of one sample, whose boxes are in its transformed image.</summary>
    public void Add(DetectionSample sample, ReadOnlySpan<XyxyBox> boxes, ReadOnlySpan<int> labels, ReadOnlySpan<float> scores) =>
        Add(sample.ImageId, boxes, labels, scores, sample.ToOriginal);

    public void Save(string path) => CocoResults.Save(path, _results);
}
