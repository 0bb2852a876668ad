namespace Nanoq.Coco.Evaluation;

/// <summary>
/// The 12 summary numbers restricted to one category (pycocotools' averages with K = 1), with the category's
/// ground-truth count (crowds excluded) and detection count (after the 100-per-image cut).
/// </summary>
public sealed record CategoryEvalResult(long CategoryId, string Name, int GroundTruths, int Detections, CocoStats Stats);
