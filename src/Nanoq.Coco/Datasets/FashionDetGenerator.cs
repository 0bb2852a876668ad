using Nanoq.Coco.Imaging;

namespace Nanoq.Coco.Datasets;

/// <summary>
/// The <c>fashion-det</c> data set: real Fashion-MNIST garments pasted onto noisy textured canvases at scales from
/// COCO-small to COCO-large (all three present whenever the image is at least 128 px). Train images use garments of
/// Fashion-MNIST's training part, val images those of its t10k part. Each garment is cropped to its non-zero pixels,
/// scaled bilinearly to the target size, tinted, and alpha-blended by its grey value; its box is the tight bound of
/// the pixels it visibly changes (exact), and <c>area</c> is the box's w×h. Category id = Fashion-MNIST label + 1.
/// Image i of a split is a pure function of (seed, split, i).
/// </summary>
public sealed class FashionDetGenerator : IImageGenerator
{
    private readonly int _imageSize;
    private readonly ulong _seed;
    private readonly FashionMnist _train;
    private readonly FashionMnist _val;

    public static IReadOnlyList<CocoCategory> Categories { get; } =
        FashionMnist.ClassNames.Select((n, i) => new CocoCategory(i + 1, n, "garment")).ToArray();

    IReadOnlyList<CocoCategory> IImageGenerator.Categories => Categories;

    public string Name => "fashion-det";

    /// <summary>Loads Fashion-MNIST from <paramref name="fashionMnistDirectory"/> (a clear error if it is not installed).</summary>
    public FashionDetGenerator(int imageSize, ulong seed, string fashionMnistDirectory = FashionMnist.DefaultDirectory)
        : this(imageSize, seed, FashionMnist.Load(true, fashionMnistDirectory), FashionMnist.Load(false, fashionMnistDirectory))
    {
    }

    public FashionDetGenerator(int imageSize, ulong seed, FashionMnist train, FashionMnist val)
    {
        _imageSize = imageSize;
        _seed = seed;
        _train = train;
        _val = val;
    }

    public GeneratedImage Generate(DatasetSplit split, int index)
    {
        var source = split == DatasetSplit.Train ? _train : _val;
        var rng = Rng.Derive(_seed, ((ulong)split << 32) | (uint)index);
        var bg = (rng.NextInt(20, 120 + 1), rng.NextInt(20, 120 + 1), rng.NextInt(20, 120 + 1));
        var canvas = new Canvas(Textures.Background(rng, _imageSize, _imageSize, bg));
        int maxObjects = Math.Clamp(_imageSize / 40, 3, 8);
        foreach (int bucket in SizeBuckets.Plan(rng, rng.NextInt(3, maxObjects + 1), _imageSize))
        {
            var tint = Textures.DistinctColour(rng, bg, 140);
            var (garment, crop, cw, ch) = PickGarment(rng, source, bucket);
            double aspect = (double)cw / ch;
            // The largest area at which this garment's proportions fit in the image.
            double maxSide = SizeBuckets.MaxSide(_imageSize);
            double fitArea = maxSide * maxSide * Math.Min(aspect, 1 / aspect);
            var (lo, hi) = SizeBuckets.AreaRange(bucket, _imageSize);
            for (int attempt = 0; attempt < 25; attempt++)
            {
                double area = SizeBuckets.LogUniform(rng, Math.Min(lo, fitArea), Math.Min(hi, fitArea));
                int w = Math.Max(2, (int)Math.Round(Math.Sqrt(area * aspect))), h = Math.Max(2, (int)Math.Round(Math.Sqrt(area / aspect)));
                int x0 = rng.NextInt(0, _imageSize - w + 1), y0 = rng.NextInt(0, _imageSize - h + 1);
                if (canvas.TryPaint(x0, y0, w, h, Scale(crop, w, h), (_, _) => (tint.R, tint.G, tint.B), source.Labels[garment] + 1L))
                    break;
            }
        }
        return canvas.Finish();
    }

    /// <summary>
    /// A random garment whose proportions let it reach the bucket's smallest area inside the image (trousers cannot be
    /// a large object in a 128 px image); after 100 tries, the last one drawn.
    /// </summary>
    private (int Index, RgbImage Crop, int Width, int Height) PickGarment(Rng rng, FashionMnist source, int bucket)
    {
        double maxSide = SizeBuckets.MaxSide(_imageSize);
        double lo = SizeBuckets.AreaRange(bucket, _imageSize).Lo;
        for (int tries = 0; ; tries++)
        {
            int garment = rng.NextInt(source.Count);
            var crop = Crop(source.Image(garment), out int cw, out int ch);
            double aspect = (double)cw / ch;
            if (maxSide * maxSide * Math.Min(aspect, 1 / aspect) >= lo || tries == 99)
                return (garment, crop, cw, ch);
        }
    }

    /// <summary>The garment's tight crop (pixels &gt; 0) as an RGB image with grey = value.</summary>
    private static RgbImage Crop(ReadOnlySpan<byte> g, out int w, out int h)
    {
        int x0 = FashionMnist.Side, y0 = FashionMnist.Side, x1 = -1, y1 = -1;
        for (int y = 0; y < FashionMnist.Side; y++)
            for (int x = 0; x < FashionMnist.Side; x++)
                if (g[y * FashionMnist.Side + x] > 0)
                {
                    x0 = Math.Min(x0, x); x1 = Math.Max(x1, x); y0 = Math.Min(y0, y); y1 = Math.Max(y1, y);
                }
        if (x1 < 0) { x0 = y0 = 0; x1 = y1 = FashionMnist.Side - 1; }
        w = x1 - x0 + 1;
        h = y1 - y0 + 1;
        var img = new RgbImage(w, h);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                byte v = g[(y0 + y) * FashionMnist.Side + x0 + x];
                int i = (y * w + x) * 3;
                img.Pixels[i] = img.Pixels[i + 1] = img.Pixels[i + 2] = v;
            }
        return img;
    }

    /// <summary>Bilinear scale of the crop to w×h, as alpha in [0, 1].</summary>
    private static float[] Scale(RgbImage crop, int w, int h)
    {
        var scaled = Resampler.Bilinear(crop, w, h);
        var alpha = new float[w * h];
        for (int i = 0; i < alpha.Length; i++) alpha[i] = scaled.Pixels[i * 3] / 255f;
        return alpha;
    }
}
