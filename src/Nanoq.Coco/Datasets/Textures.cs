using Nanoq.Coco.Imaging;

namespace Nanoq.Coco.Datasets;

/// <summary>
/// Noisy textured backgrounds, so a detector cannot find objects by looking for any non-flat pixel: a base colour,
/// smooth blotches (bilinear value noise on a coarse random grid), optional stripes, and per-pixel grain.
/// </summary>
internal static class Textures
{
    public static RgbImage Background(Rng rng, int width, int height, (int R, int G, int B) baseColour)
    {
        var img = new RgbImage(width, height);
        int cells = 2 + rng.NextInt(6);
        var grid = new float[(cells + 1) * (cells + 1) * 3];
        for (int i = 0; i < grid.Length; i++) grid[i] = (float)rng.Uniform(-45, 45);
        bool stripes = rng.Bernoulli(0.3);
        double period = rng.Uniform(6, 24), angle = rng.Uniform(0, Math.PI);
        double cos = Math.Cos(angle), sin = Math.Sin(angle), stripeAmp = rng.Uniform(8, 22);
        Span<int> b = [baseColour.R, baseColour.G, baseColour.B];
        for (int y = 0; y < height; y++)
        {
            float gy = (float)y / height * cells;
            int iy = Math.Min((int)gy, cells - 1);
            float fy = gy - iy;
            for (int x = 0; x < width; x++)
            {
                float gx = (float)x / width * cells;
                int ix = Math.Min((int)gx, cells - 1);
                float fx = gx - ix;
                double stripe = stripes ? stripeAmp * Math.Sin(2 * Math.PI * (x * cos + y * sin) / period) : 0;
                double grain = rng.Uniform(-10, 10);
                for (int c = 0; c < 3; c++)
                {
                    float v00 = grid[((iy * (cells + 1)) + ix) * 3 + c], v01 = grid[((iy * (cells + 1)) + ix + 1) * 3 + c];
                    float v10 = grid[(((iy + 1) * (cells + 1)) + ix) * 3 + c], v11 = grid[(((iy + 1) * (cells + 1)) + ix + 1) * 3 + c];
                    float blotch = (v00 * (1 - fx) + v01 * fx) * (1 - fy) + (v10 * (1 - fx) + v11 * fx) * fy;
                    img.Pixels[(y * width + x) * 3 + c] = (byte)Math.Clamp((int)Math.Round(b[c] + blotch + stripe + grain), 0, 255);
                }
            }
        }
        return img;
    }

    /// <summary>A random colour at least <paramref name="minDistance"/> (Euclidean, RGB) from <paramref name="avoid"/>.</summary>
    public static (int R, int G, int B) DistinctColour(Rng rng, (int R, int G, int B) avoid, double minDistance)
    {
        while (true)
        {
            var c = (rng.NextInt(256), rng.NextInt(256), rng.NextInt(256));
            double dr = c.Item1 - avoid.R, dg = c.Item2 - avoid.G, db = c.Item3 - avoid.B;
            if (Math.Sqrt(dr * dr + dg * dg + db * db) >= minDistance) return c;
        }
    }
}
