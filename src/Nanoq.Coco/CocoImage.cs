namespace Nanoq.Coco;

/// <summary>One entry of a COCO json's <c>images</c> list. <see cref="FileName"/> is relative to the images folder.</summary>
public sealed record CocoImage(long Id, int Width, int Height, string FileName);
