using Nanoq.Coco.Datasets;
using Nanoq.Coco.Imaging;

namespace Nanoq.Coco.Tests.Datasets;

/// <summary>Boxes are the exact bounds of the visible pixels of each object.</summary>
public class CanvasTests
{
    private static float[] Solid(int w, int h) => Enumerable.Repeat(1f, w * h).ToArray();

    [Fact]
    public void ABoxIsTheTightBoundOfThePaintedPixels()
    {
        var canvas = new Canvas(new RgbImage(50, 40));
        var mask = ShapeMask.Make(ShapeKind.Diamond, 21, 11, 0);
        Assert.True(canvas.TryPaint(10, 5, 21, 11, mask, (_, _) => (255, 0, 0), 4));
        var g = canvas.Finish();
        Assert.Equal(new XyxyBox(10, 5, 31, 16), g.Boxes[0]);
        Assert.Equal([4L], g.CategoryIds);
        // Pixel (20, 10), the diamond's centre, is red; (10, 5), its box corner, is not.
        Assert.Equal(255, g.Image.Pixels[(10 * 50 + 20) * 3]);
        Assert.Equal(0, g.Image.Pixels[(5 * 50 + 10) * 3]);
    }

    [Fact]
    public void ALaterObjectTrimsTheBoxOfWhatItCovers()
    {
        var canvas = new Canvas(new RgbImage(50, 50));
        Assert.True(canvas.TryPaint(0, 0, 20, 20, Solid(20, 20), (_, _) => (255, 0, 0), 1));
        // Covers columns 15..19 of the first square entirely: 25 % of it, allowed; its box shrinks to x < 15.
        Assert.True(canvas.TryPaint(15, 0, 10, 20, Solid(10, 20), (_, _) => (0, 255, 0), 2));
        var g = canvas.Finish();
        Assert.Equal(new XyxyBox(0, 0, 15, 20), g.Boxes[0]);
        Assert.Equal(new XyxyBox(15, 0, 25, 20), g.Boxes[1]);
    }

    [Fact]
    public void HidingMostOfAnObjectIsRefused()
    {
        var canvas = new Canvas(new RgbImage(50, 50));
        Assert.True(canvas.TryPaint(0, 0, 20, 20, Solid(20, 20), (_, _) => (255, 0, 0), 1));
        Assert.False(canvas.TryPaint(0, 0, 20, 15, Solid(20, 15), (_, _) => (0, 255, 0), 2));
        Assert.Equal(1, canvas.Count);
        Assert.Equal(255, canvas.Image.Pixels[0]);
    }

    [Theory]
    [InlineData(ShapeKind.Rectangle)]
    [InlineData(ShapeKind.Ellipse)]
    [InlineData(ShapeKind.Triangle)]
    [InlineData(ShapeKind.Diamond)]
    [InlineData(ShapeKind.Ring)]
    public void EveryShapeTouchesAllFourSidesOfItsPatch(ShapeKind kind)
    {
        foreach (double variant in new[] { 0.1, 0.7 })
        {
            var m = ShapeMask.Make(kind, 31, 19, variant);
            Assert.Contains(Enumerable.Range(0, 31), x => m[x] > 0);
            Assert.Contains(Enumerable.Range(0, 31), x => m[18 * 31 + x] > 0);
            Assert.Contains(Enumerable.Range(0, 19), y => m[y * 31] > 0);
            Assert.Contains(Enumerable.Range(0, 19), y => m[y * 31 + 30] > 0);
        }
    }
}
