using Nanoq.Coco.Datasets;

namespace Nanoq.Coco.Tests;

/// <summary>A tiny shapes data set (6 train, 3 val images of 160 px) written once for the tests that read one.</summary>
public sealed class ShapesFixture : IDisposable
{
    public string Root { get; } = TestData.TempDir("shapes");
    public string Train => Path.Combine(Root, "train");
    public string Val => Path.Combine(Root, "val");
    public CocoDataset TrainSet { get; }

    public ShapesFixture()
    {
        (TrainSet, _) = BundledDatasets.Write(new ShapesGenerator(160, 7), Root, 6, 3, 7);
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
