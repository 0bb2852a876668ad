using Nanoq.Coco.Imaging;

namespace Nanoq.Coco.Datasets;

/// <summary>
/// An image being composed from objects, with a per-pixel owner map so that every box is exact: an object's box is
/// the tight bound of the pixels where it is on top (a later object covering part of it trims the box, as COCO's
/// boxes bound visible extent). A placement that would hide too much of an earlier object is refused, so every
/// object stays clearly visible while objects still overlap.
/// </summary>
internal sealed class Canvas
{
    private readonly int[] _owner;
    private readonly List<int> _full = new();
    private readonly List<int> _visible = new();
    private readonly List<long> _categories = new();

    public RgbImage Image { get; }
    public int Count => _categories.Count;

    public Canvas(RgbImage background)
    {
        Image = background;
        _owner = new int[background.Width * background.Height];
        Array.Fill(_owner, -1);
    }

    /// <summary>
    /// Tries to paint an object whose coverage over the w×h patch at (x0, y0) is <paramref name="alpha"/> (row-major,
    /// 0 = untouched, 1 = opaque) in colour <paramref name="colour"/>(x, y). Pixels with alpha &gt; 0 become the object's.
    /// Refused (returns false, nothing painted) if the object would have no pixel in the image or an earlier object
    /// would keep less than <paramref name="minVisible"/> of its pixels.
    /// </summary>
    public bool TryPaint(int x0, int y0, int w, int h, float[] alpha, Func<int, int, (float R, float G, float B)> colour,
        long categoryId, double minVisible = 0.7)
    {
        int W = Image.Width, H = Image.Height;
        var covered = new Dictionary<int, int>();
        int own = 0;
        for (int y = Math.Max(0, y0); y < Math.Min(H, y0 + h); y++)
            for (int x = Math.Max(0, x0); x < Math.Min(W, x0 + w); x++)
            {
                if (alpha[(y - y0) * w + (x - x0)] <= 0) continue;
                own++;
                int o = _owner[y * W + x];
                if (o >= 0) covered[o] = covered.GetValueOrDefault(o) + 1;
            }
        if (own == 0) return false;
        foreach (var (o, n) in covered)
            if (_visible[o] - n < minVisible * _full[o]) return false;

        int id = _categories.Count;
        var px = Image.Pixels;
        for (int y = Math.Max(0, y0); y < Math.Min(H, y0 + h); y++)
            for (int x = Math.Max(0, x0); x < Math.Min(W, x0 + w); x++)
            {
                float a = alpha[(y - y0) * w + (x - x0)];
                if (a <= 0) continue;
                var (r, g, b) = colour(x, y);
                int i = (y * W + x) * 3;
                px[i] = Blend(px[i], r, a);
                px[i + 1] = Blend(px[i + 1], g, a);
                px[i + 2] = Blend(px[i + 2], b, a);
                _owner[y * W + x] = id;
            }
        foreach (var (o, n) in covered) _visible[o] -= n;
        _full.Add(own);
        _visible.Add(own);
        _categories.Add(categoryId);
        return true;
    }

    /// <summary>The objects painted so far, each with the tight box of its visible pixels.</summary>
    public GeneratedImage Finish()
    {
        int n = Count, W = Image.Width;
        var minX = Enumerable.Repeat(int.MaxValue, n).ToArray();
        var minY = Enumerable.Repeat(int.MaxValue, n).ToArray();
        var maxX = new int[n];
        var maxY = new int[n];
        for (int y = 0; y < Image.Height; y++)
            for (int x = 0; x < W; x++)
            {
                int o = _owner[y * W + x];
                if (o < 0) continue;
                minX[o] = Math.Min(minX[o], x); maxX[o] = Math.Max(maxX[o], x);
                minY[o] = Math.Min(minY[o], y); maxY[o] = Math.Max(maxY[o], y);
            }
        var boxes = new XyxyBox[n];
        for (int o = 0; o < n; o++) boxes[o] = new XyxyBox(minX[o], minY[o], maxX[o] + 1, maxY[o] + 1);
        return new GeneratedImage(Image, boxes, _categories.ToArray());
    }

    private static byte Blend(byte under, float over, float a) =>
        (byte)Math.Clamp((int)MathF.Round(under + a * (over - under)), 0, 255);
}
