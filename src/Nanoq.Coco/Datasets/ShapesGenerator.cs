using Nanoq.Coco.Imaging;

namespace Nanoq.Coco.Datasets;

/// <summary>
/// The <c>shapes</c> data set: rectangles, ellipses, triangles, diamonds and rings in random colours on noisy
/// textured backgrounds, sizes from COCO-small to COCO-large (all three present whenever the image is at least
/// 128 px), with some overlap. Needs nothing installed. Image i of a split is a pure function of
/// (seed, split, i), so sets are reproducible byte for byte and can be generated in parallel.
/// Boxes are the tight bounds of each shape's visible pixels; <c>area</c> is the box's w×h.
/// </summary>
public sealed class ShapesGenerator(int imageSize, ulong seed) : IImageGenerator
{
    public static IReadOnlyList<CocoCategory> Categories { get; } =
        Enum.GetValues<ShapeKind>().Select(k => new CocoCategory((int)k, k.ToString().ToLowerInvariant(), "shape")).ToArray();

    IReadOnlyList<CocoCategory> IImageGenerator.Categories => Categories;

    public string Name => "shapes";

    public GeneratedImage Generate(DatasetSplit split, int index)
    {
        var rng = Rng.Derive(seed, ((ulong)split << 32) | (uint)index);
        var bg = (rng.NextInt(40, 215 + 1), rng.NextInt(40, 215 + 1), rng.NextInt(40, 215 + 1));
        var canvas = new Canvas(Textures.Background(rng, imageSize, imageSize, bg));
        int maxObjects = Math.Clamp(imageSize / 32, 3, 10);
        var plan = SizeBuckets.Plan(rng, rng.NextInt(3, maxObjects + 1), imageSize);
        var kinds = Enum.GetValues<ShapeKind>();
        foreach (int bucket in plan)
        {
            var kind = kinds[rng.NextInt(kinds.Length)];
            var colour = Textures.DistinctColour(rng, bg, 110);
            for (int attempt = 0; attempt < 25; attempt++)
            {
                var (fw, fh) = SizeBuckets.Size(rng, bucket, imageSize);
                int w = Math.Max(3, (int)Math.Round(fw)), h = Math.Max(3, (int)Math.Round(fh));
                int x0 = rng.NextInt(0, imageSize - w + 1), y0 = rng.NextInt(0, imageSize - h + 1);
                var mask = ShapeMask.Make(kind, w, h, rng.NextDouble());
                float shade = (float)rng.Uniform(-0.25, 0.25);
                var grain = new Rng(rng.NextUInt64());
                if (canvas.TryPaint(x0, y0, w, h, mask, (x, y) => Colour(colour, shade, (float)(y - y0) / h, grain), (long)kind))
                    break;
            }
        }
        return canvas.Finish();
    }

    /// <summary>The shape's colour with a vertical shading gradient and a little grain, so shapes are not flat.</summary>
    private static (float, float, float) Colour((int R, int G, int B) c, float shade, float t, Rng grain)
    {
        float k = 1 + shade * (t - 0.5f) * 2;
        float n = (float)grain.Uniform(-8, 8);
        return (c.R * k + n, c.G * k + n, c.B * k + n);
    }
}
