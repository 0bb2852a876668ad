namespace Nanoq.Coco.Datasets;

/// <summary>Which split an image belongs to; part of every image's random stream, so splits never share images.</summary>
public enum DatasetSplit
{
    Train = 1,
    Val = 2,
}
