using FsCheck.Xunit;
using Nanoq.Coco.Imaging;

namespace Nanoq.Coco.Tests.Imaging;

public class TransformTests
{
    [Theory]
    [InlineData(640, 480, 800, 1333, 1067, 800)]   // shorter side rules: 480 → 800
    [InlineData(2000, 500, 800, 1333, 1333, 333)]  // longer side capped: 2000·(1333/2000)
    [InlineData(480, 640, 800, 1333, 800, 1067)]
    [InlineData(100, 100, 64, 64, 64, 64)]
    public void ShorterSidePlan(int w, int h, int shorter, int max, int ew, int eh)
    {
        var (rw, rh, map) = ResizePlan.ShorterSide(w, h, shorter, max);
        Assert.Equal((ew, eh), (rw, rh));
        // The whole image maps onto the whole resized image.
        Assert.Equal(new XyxyBox(0, 0, ew, eh), map.Map(new XyxyBox(0, 0, w, h)));
    }

    [Fact]
    public void LetterboxPlanCentres()
    {
        // 640×480 into 320×320: scale 0.5 → 320×240, 40 px bars above and below.
        var (w, h, ox, oy, map) = ResizePlan.Letterbox(640, 480, 320, 320);
        Assert.Equal((320, 240, 0, 40), (w, h, ox, oy));
        Assert.Equal(new XyxyBox(0, 40, 320, 280), map.Map(new XyxyBox(0, 0, 640, 480)));
        Assert.Equal(new XyxyBox(5, 45, 10, 50), map.Map(new XyxyBox(10, 10, 20, 20)));
    }

    [Fact]
    public void FlipMapsEdges()
    {
        var (_, map) = ImageTransforms.FlipHorizontal(new RgbImage(100, 10));
        Assert.Equal(new XyxyBox(70, 2, 90, 8), map.Map(new XyxyBox(10, 2, 30, 8)));
        Assert.Equal(new XyxyBox(10, 2, 30, 8), map.Then(map).Map(new XyxyBox(10, 2, 30, 8)));
    }

    [Property(MaxTest = 200)]
    public void EveryMapRoundTripsThroughItsInverse(ulong seed)
    {
        var rng = new Rng(seed);
        int w = rng.NextInt(1, 3000 + 1), h = rng.NextInt(1, 3000 + 1);
        var map = BoxMap.Identity;
        if (rng.Bernoulli(0.5)) map = map.Then(ResizePlan.ShorterSide(w, h, rng.NextInt(16, 1000 + 1), 2000).Map);
        else map = map.Then(ResizePlan.Letterbox(w, h, rng.NextInt(16, 1000 + 1), rng.NextInt(16, 1000 + 1)).Map);
        if (rng.Bernoulli(0.5)) map = map.Then(new BoxMap(-1, rng.NextInt(16, 1000 + 1), 1, 0));
        float x1 = (float)rng.Uniform(0, w), y1 = (float)rng.Uniform(0, h);
        var box = new XyxyBox(x1, y1, x1 + (float)rng.Uniform(0.1, w), y1 + (float)rng.Uniform(0.1, h));

        var back = map.Inverse().Map(map.Map(box));

        float tol = 1e-5f * Math.Max(w, h) + 1e-3f;
        Assert.InRange(back.X1, box.X1 - tol, box.X1 + tol);
        Assert.InRange(back.Y1, box.Y1 - tol, box.Y1 + tol);
        Assert.InRange(back.X2, box.X2 - tol, box.X2 + tol);
        Assert.InRange(back.Y2, box.Y2 - tol, box.Y2 + tol);
    }

    [Property(MaxTest = 100)]
    public void FlippingTwiceIsTheIdentity(ulong seed)
    {
        var rng = new Rng(seed);
        var img = new RgbImage(rng.NextInt(1, 40 + 1), rng.NextInt(1, 40 + 1));
        for (int i = 0; i < img.Pixels.Length; i++) img.Pixels[i] = (byte)rng.NextInt(256);
        var (once, _) = ImageTransforms.FlipHorizontal(img);
        var (twice, _) = ImageTransforms.FlipHorizontal(once);
        Assert.Equal(img.Pixels, twice.Pixels);
    }

    [Fact]
    public void MappedBoxesStillFrameTheirObject()
    {
        // A red block at x ∈ [5, 15), y ∈ [10, 20) of a 40×30 image; shorter side 30 → 60 doubles the image, then flip.
        var img = new RgbImage(40, 30);
        for (int y = 10; y < 20; y++)
            for (int x = 5; x < 15; x++) img.Pixels[(y * 40 + x) * 3] = 255;
        var (resized, m1) = ImageTransforms.ResizeShorterSide(img, 60, 1000);
        var (flipped, m2) = ImageTransforms.FlipHorizontal(resized);
        var box = m1.Then(m2).Map(new XyxyBox(5, 10, 15, 20));
        Assert.Equal(new XyxyBox(50, 20, 70, 40), box);
        byte Red(int x, int y) => flipped.Pixels[(y * flipped.Width + x) * 3];
        Assert.Equal(255, Red(51, 21));
        Assert.Equal(255, Red(68, 38));
        Assert.Equal(0, Red(47, 30));
        Assert.Equal(0, Red(72, 30));
        Assert.Equal(0, Red(60, 17));
    }

    [Fact]
    public void LetterboxPadsAndPlacesTheImage()
    {
        var img = ImageCodecTests.Gradient(64, 32);
        var (boxed, map) = ImageTransforms.Letterbox(img, 32, 32, (9, 9, 9));
        Assert.Equal((32, 32), (boxed.Width, boxed.Height));
        Assert.Equal(new XyxyBox(0, 8, 32, 24), map.Map(new XyxyBox(0, 0, 64, 32)));
        Assert.Equal(9, boxed.Pixels[(2 * 32 + 5) * 3 + 2]);   // bar above
        Assert.Equal(77, boxed.Pixels[(10 * 32 + 5) * 3 + 2]); // content (blue channel is 77 everywhere)
    }

    [Fact]
    public void BilinearKeepsSizeAndConstants()
    {
        var img = ImageCodecTests.Gradient(17, 11);
        Assert.Equal(img.Pixels, Resampler.Bilinear(img, 17, 11).Pixels);
        var flat = new RgbImage(7, 5);
        flat.Fill(10, 200, 33);
        var up = Resampler.Bilinear(flat, 23, 13);
        for (int i = 0; i < up.Pixels.Length; i += 3) Assert.Equal((10, 200, 33), (up.Pixels[i], up.Pixels[i + 1], up.Pixels[i + 2]));
    }

    [Fact]
    public void NormalizerMatchesTheFormulaAndInverts()
    {
        var img = ImageCodecTests.Gradient(4, 3);
        var n = Normalizer.ImageNet;
        var chw = n.ToChw(img);
        // Pixel (x=3, y=0) red = 255: (1 − 0.485)/0.229.
        Assert.Equal((1 - 0.485f) / 0.229f, chw[0 * 12 + 3], 4);
        Assert.Equal((77 / 255f - 0.406f) / 0.225f, chw[2 * 12 + 5], 4);
        Assert.Equal(img.Pixels, n.ToRgb(chw, 4, 3).Pixels);
    }
}
