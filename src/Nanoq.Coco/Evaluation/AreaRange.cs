namespace Nanoq.Coco.Evaluation;

/// <summary>
/// An object-size range of COCO evaluation, on the ground truth's <c>area</c> field (a result's area is w×h).
/// Both ends are inclusive, as in pycocotools (<c>area &lt; min or area &gt; max</c> is outside), so an area of exactly
/// 32² is both small and medium.
/// </summary>
public readonly record struct AreaRange(string Label, double Min, double Max)
{
    public bool Contains(double area) => !(area < Min || area > Max);
}
