using System.Text.Json;
using Nanoq.Coco.Data;
using Nanoq.Coco.Imaging;

namespace Nanoq.Coco.Tests.Imaging;

/// <summary>
/// <see cref="ResizeMode.Torchvision"/> against torchvision 0.14's <c>GeneralizedRCNNTransform</c> in eval mode
/// (tools/gen_transform_fixtures.py → data/torchvision/transform.json): sizes to the pixel, the normalized, resized,
/// padded batch to float rounding, and boxes mapped back as <c>transform.postprocess</c> maps them.
/// </summary>
public sealed class TorchvisionTransformTests : IDisposable
{
    private readonly string _dir = TestData.TempDir("tvtransform");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>
    /// The contract is agreement to float rounding; the largest difference observed over every case is 0 (see
    /// <see cref="BatchIsBitExactOnTheFixture"/>).
    /// </summary>
    private const float PixelTolerance = 1e-5f;
    /// <summary>Boxes go back through a double <see cref="BoxMap"/>, torchvision's through float32 ratios: largest observed difference 7.6e-6 px.</summary>
    private const float BoxTolerance = 1e-4f;

    private sealed record FixtureImage(RgbImage Rgb, float[] BoxesResized, float[] BoxesOriginal);

    private sealed record Case(string Name, int MinSize, int MaxSize, FixtureImage[] Images, (int H, int W)[] ImageSizes,
        int[] BatchShape, float[] Batch);

    private static readonly Lazy<Dictionary<string, Case>> Cases = new(Load);

    public static TheoryData<string> CaseNames() => new(Cases.Value.Keys.Order());

    private static Dictionary<string, Case> Load()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestData.Root, "torchvision", "transform.json")));
        var root = doc.RootElement;
        Assert.Equal(32, root.GetProperty("size_divisible").GetInt32());
        Assert.Equal(Normalizer.ImageNet.Mean, Floats(root.GetProperty("mean")));
        Assert.Equal(Normalizer.ImageNet.Std, Floats(root.GetProperty("std")));
        var cases = new Dictionary<string, Case>();
        foreach (var c in root.GetProperty("cases").EnumerateArray())
        {
            var images = c.GetProperty("images").EnumerateArray().Zip(c.GetProperty("postprocess").EnumerateArray(), (im, pp) =>
                new FixtureImage(
                    new RgbImage(im.GetProperty("width").GetInt32(), im.GetProperty("height").GetInt32(),
                        im.GetProperty("pixels_hwc").EnumerateArray().Select(v => v.GetByte()).ToArray()),
                    Floats(pp.GetProperty("boxes_resized")), Floats(pp.GetProperty("boxes_original")))).ToArray();
            var sizes = c.GetProperty("image_sizes").EnumerateArray().Select(s => (s[0].GetInt32(), s[1].GetInt32())).ToArray();
            string name = c.GetProperty("name").GetString()!;
            cases[name] = new Case(name, c.GetProperty("min_size").GetInt32(), c.GetProperty("max_size").GetInt32(), images, sizes,
                c.GetProperty("batch_shape").EnumerateArray().Select(v => v.GetInt32()).ToArray(), Floats(c.GetProperty("batch")));
        }
        return cases;
    }

    /// <summary>The fixture's floats are doubles that hold float32 values exactly.</summary>
    private static float[] Floats(JsonElement array) => array.EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();

    private static TransformOptions Options(Case c) =>
        new() { Resize = ResizeMode.Torchvision, ShorterSide = c.MinSize, MaxLongerSide = c.MaxSize };

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void SizesAreTorchvisions(string name)
    {
        var c = Cases.Value[name];
        for (int i = 0; i < c.Images.Length; i++)
        {
            var rgb = c.Images[i].Rgb;
            var (w, h, _) = ResizePlan.Torchvision(rgb.Width, rgb.Height, c.MinSize, c.MaxSize);
            Assert.Equal(c.ImageSizes[i], (h, w));
        }
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void BatchEqualsTorchvisionsToFloatRounding(string name)
    {
        var c = Cases.Value[name];
        var samples = c.Images.Select(im => CocoFolder.FromImage(im.Rgb, Options(c))).ToArray();
        using var batch = Batcher.Collate(samples, 32);
        Assert.Equal(c.BatchShape, new[] { batch.N, batch.C, batch.H, batch.W });
        for (int n = 0; n < batch.N; n++)
        {
            Assert.Equal(c.ImageSizes[n], (samples[n].Height, samples[n].Width));
            var slot = batch.ImageSlot(n);
            var expected = c.Batch.AsSpan(n * slot.Length, slot.Length);
            for (int ch = 0; ch < batch.C; ch++)
                for (int y = 0; y < batch.H; y++)
                    for (int x = 0; x < batch.W; x++)
                    {
                        int k = (ch * batch.H + y) * batch.W + x;
                        if (y >= samples[n].Height || x >= samples[n].Width)
                        {
                            Assert.Equal(0f, expected[k]);
                            Assert.Equal(0f, slot[k]);
                        }
                        else if (Math.Abs(slot[k] - expected[k]) > PixelTolerance)
                            Assert.Fail($"{name} image {n} [{ch}, {y}, {x}]: {slot[k]} vs torchvision {expected[k]}");
                    }
        }
    }

    /// <summary>
    /// Stronger than the contract, and tied to how the fixture was made: Debian's torch 1.13 on an x86-64 CPU with
    /// AVX2 runs its FMA-contracted bilinear kernel, which <see cref="Resampler.BilinearChw"/> reproduces, and
    /// torchvision's (v/255 − mean)/std is <see cref="Normalizer.ToChwAsTorchvision"/>'s arithmetic (the
    /// <c>identity</c> case is normalization alone). Regenerated on a CPU where PyTorch takes its non-FMA kernel,
    /// resized pixels would differ by an ulp here and there and only the tolerance test would hold.
    /// </summary>
    [Theory]
    [MemberData(nameof(CaseNames))]
    public void BatchIsBitExactOnTheFixture(string name)
    {
        var c = Cases.Value[name];
        using var batch = Batcher.Collate(c.Images.Select(im => CocoFolder.FromImage(im.Rgb, Options(c))).ToArray(), 32);
        Assert.Equal(c.Batch, batch.Data.AsSpan(0, c.Batch.Length).ToArray());
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void BoxesMapBackAsPostprocess(string name)
    {
        var c = Cases.Value[name];
        foreach (var im in c.Images)
        {
            var toOriginal = CocoFolder.FromImage(im.Rgb, Options(c)).ToOriginal;
            for (int b = 0; b < im.BoxesResized.Length; b += 4)
            {
                var r = im.BoxesResized;
                var back = toOriginal.Map(new XyxyBox(r[b], r[b + 1], r[b + 2], r[b + 3]));
                float[] got = [back.X1, back.Y1, back.X2, back.Y2];
                for (int k = 0; k < 4; k++) Assert.Equal(im.BoxesOriginal[b + k], got[k], BoxTolerance);
            }
        }
    }

    [Theory]
    [InlineData(60, 41, 64, 100, 93, 63)]       // 41·(64/41 in float32) = 63.99…: one short, as torchvision
    [InlineData(640, 427, 800, 1333, 1199, 799)] // a COCO size: 799, not 800
    [InlineData(640, 480, 800, 1333, 1066, 800)] // 1066.67 floors (ShorterSide rounds to 1067)
    [InlineData(612, 612, 800, 1333, 800, 800)]
    [InlineData(2000, 500, 800, 1333, 1333, 333)] // max size binds
    [InlineData(20, 100, 50, 80, 15, 79)]         // max size binds, both axes one short
    public void PlanFloorsTheFloat32Scale(int w, int h, int min, int max, int ew, int eh)
    {
        var (rw, rh, map) = ResizePlan.Torchvision(w, h, min, max);
        Assert.Equal((ew, eh), (rw, rh));
        Assert.Equal(new XyxyBox(0, 0, ew, eh), map.Map(new XyxyBox(0, 0, w, h)));
    }

    [Fact]
    public void PlanRejectsAnEmptyResult() =>
        Assert.Throws<ArgumentException>(() => ResizePlan.Torchvision(10000, 1, 1, 10));

    [Fact]
    public void PrepareHasNoByteFormOfTheTorchvisionMode() =>
        Assert.Throws<ArgumentException>(() => CocoFolder.Prepare(new RgbImage(4, 4), new TransformOptions { Resize = ResizeMode.Torchvision }, false));

    /// <summary>
    /// The loader path: the batch_two images written as PNGs into a COCO folder, loaded with
    /// <see cref="ResizeMode.Torchvision"/>, equal the fixture's tensors; annotation boxes scale by new/old per axis,
    /// and a flipped load is the mirror image of the plain one to float rounding (flip commutes with the transform).
    /// </summary>
    [Fact]
    public void CocoFolderLoadMatchesTorchvision()
    {
        var c = Cases.Value["batch_two"];
        string images = Directory.CreateDirectory(Path.Combine(_dir, "images")).FullName;
        var entries = new List<CocoImage>();
        var anns = new List<CocoAnnotation>();
        for (int i = 0; i < c.Images.Length; i++)
        {
            var rgb = c.Images[i].Rgb;
            ImageCodec.SavePng(Path.Combine(images, $"{i + 1}.png"), rgb);
            entries.Add(new CocoImage(i + 1, rgb.Width, rgb.Height, $"{i + 1}.png"));
            anns.Add(new CocoAnnotation(i + 1, i + 1, 1, new CocoBox(3, 5, 20, 11), 220, false));
        }
        new CocoDataset(entries, anns, [new CocoCategory(1, "thing", null)]).Save(Path.Combine(_dir, "instances.json"));
        var folder = CocoFolder.OpenLayout(_dir);
        var options = Options(c);
        int slot = c.BatchShape[1] * c.BatchShape[2] * c.BatchShape[3];
        for (int i = 0; i < folder.Count; i++)
        {
            var s = folder.Load(i, options);
            Assert.Equal(c.ImageSizes[i], (s.Height, s.Width));
            for (int ch = 0; ch < 3; ch++)
                for (int y = 0; y < s.Height; y++)
                    for (int x = 0; x < s.Width; x++)
                    {
                        float expected = c.Batch[i * slot + (ch * c.BatchShape[2] + y) * c.BatchShape[3] + x];
                        Assert.Equal(expected, s.Image[(ch * s.Height + y) * s.Width + x], PixelTolerance);
                    }
            float sx = (float)s.Width / c.Images[i].Rgb.Width, sy = (float)s.Height / c.Images[i].Rgb.Height;
            var box = s.Boxes[0];
            Assert.Equal(3 * sx, box.X1, 1e-5f);
            Assert.Equal(5 * sy, box.Y1, 1e-5f);
            Assert.Equal(23 * sx, box.X2, 1e-5f);
            Assert.Equal(16 * sy, box.Y2, 1e-5f);

            var f = folder.Load(i, options, flip: true);
            Assert.Equal((s.Width, s.Height), (f.Width, f.Height));
            for (int ch = 0; ch < 3; ch++)
                for (int y = 0; y < s.Height; y++)
                    for (int x = 0; x < s.Width; x++)
                        Assert.Equal(s.Image[(ch * s.Height + y) * s.Width + x],
                            f.Image[(ch * s.Height + y) * s.Width + s.Width - 1 - x], PixelTolerance);
            Assert.Equal(s.Width - box.X2, f.Boxes[0].X1, 1e-4f);
            Assert.Equal(s.Width - box.X1, f.Boxes[0].X2, 1e-4f);
            Assert.Equal(box.Y1, f.Boxes[0].Y1, 1e-5f);
        }
    }

    /// <summary>
    /// <see cref="Resampler.BilinearChw"/> against the textbook formula in double precision on random planes:
    /// half-pixel centres, source clamped at 0, right/bottom neighbour clamped to the last pixel. The float32 ratio
    /// (its rounding grows with the source index) and weights keep the float result within a few 1e-6 of the
    /// double one (largest observed 1.9e-6 for values in [0, 1]).
    /// </summary>
    [Theory]
    [InlineData(1, 1, 1, 5, 7)]
    [InlineData(3, 7, 5, 7, 5)]    // no change: a copy
    [InlineData(3, 7, 5, 7, 13)]   // one axis copied, one upscaled
    [InlineData(2, 37, 53, 64, 91)]
    [InlineData(3, 64, 48, 21, 17)]
    [InlineData(1, 100, 20, 79, 15)]
    [InlineData(2, 5, 9, 40, 3)]
    public void BilinearChwIsTheTextbookFormula(int channels, int height, int width, int outHeight, int outWidth)
    {
        var rng = new Rng((ulong)(channels * 1000003 + height * 1009 + width * 101 + outHeight * 11 + outWidth));
        var src = new float[channels * height * width];
        rng.FillUniform(src, 0f, 1f);
        var got = Resampler.BilinearChw(src, channels, height, width, outHeight, outWidth);
        Assert.Equal(channels * outHeight * outWidth, got.Length);
        for (int c = 0; c < channels; c++)
            for (int y = 0; y < outHeight; y++)
            {
                var (y0, y1, ly) = Tap(y, height, outHeight);
                for (int x = 0; x < outWidth; x++)
                {
                    var (x0, x1, lx) = Tap(x, width, outWidth);
                    double At(int yy, int xx) => src[(c * height + yy) * width + xx];
                    double top = At(y0, x0) * (1 - lx) + At(y0, x1) * lx;
                    double bottom = At(y1, x0) * (1 - lx) + At(y1, x1) * lx;
                    double expected = top * (1 - ly) + bottom * ly;
                    Assert.Equal(expected, got[(c * outHeight + y) * outWidth + x], 1e-5);
                }
            }
    }

    private static (int I0, int I1, double Lambda) Tap(int i, int inSize, int outSize)
    {
        double s = Math.Max((i + 0.5) * inSize / outSize - 0.5, 0);
        int i0 = (int)Math.Floor(s);
        return (i0, Math.Min(i0 + 1, inSize - 1), s - i0);
    }
}
