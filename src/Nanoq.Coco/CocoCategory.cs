namespace Nanoq.Coco;

/// <summary>One entry of a COCO json's <c>categories</c> list. Ids need not be contiguous (COCO's run 1..90 with gaps).</summary>
public sealed record CocoCategory(long Id, string Name, string? Supercategory = null);
