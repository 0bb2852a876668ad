using Nanoq.Coco.Data;
using Nanoq.Coco.Imaging;

namespace Nanoq.Coco.Tests.Data;

public class BatcherTests
{
    private static DetectionSample Sample(int w, int h, float value)
    {
        var image = Enumerable.Repeat(value, 3 * w * h).ToArray();
        return new DetectionSample(1, image, w, h, [], [], [], w, h, BoxMap.Identity, false);
    }

    [Fact]
    public void PadsToTheDivisibilityWithZerosAndPlacesImagesTopLeft()
    {
        using var b = Batcher.Collate([Sample(40, 30, 1f), Sample(20, 50, 2f)], 32);
        Assert.Equal((2, 3, 64, 64), (b.N, b.C, b.H, b.W));
        var first = b.ImageSlot(0);
        Assert.Equal(1f, first[0]);
        Assert.Equal(1f, first[29 * 64 + 39]);
        Assert.Equal(0f, first[29 * 64 + 40]);
        Assert.Equal(0f, first[30 * 64]);
        Assert.Equal(2f, b.ImageSlot(1)[49 * 64 + 19]);
        Assert.Equal(0f, b.ImageSlot(1)[49 * 64 + 20]);
    }

    [Fact]
    public void AReusedPooledBufferHasNoStaleValuesInThePadding()
    {
        // Same total size twice: the second batch gets the first one's buffer back from the pool.
        var a = Batcher.Collate([Sample(64, 64, 7f), Sample(64, 64, 7f)], 32);
        a.Dispose();
        a.Dispose(); // idempotent
        using var b = Batcher.Collate([Sample(10, 10, 3f), Sample(10, 10, 3f)], 64);
        Assert.Equal((64, 64), (b.H, b.W));
        float[] data = b.Data;
        int nonZero = data.Count(v => v != 0f);
        Assert.Equal(2 * 3 * 10 * 10, nonZero);
        Assert.DoesNotContain(7f, data);
    }
}
