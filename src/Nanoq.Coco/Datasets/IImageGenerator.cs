namespace Nanoq.Coco.Datasets;

/// <summary>A bundled data set: its categories, and image i of a split as a pure function of (seed, split, i).</summary>
public interface IImageGenerator
{
    string Name { get; }
    IReadOnlyList<CocoCategory> Categories { get; }
    GeneratedImage Generate(DatasetSplit split, int index);
}
