using System.Globalization;
using Nanoq.Coco;
using Nanoq.Coco.Imaging;

namespace Nanoq.Cli.Reports;

/// <summary>
/// Draws detection boxes (outlines, one colour a class) onto an image, for the run folder's preview PNGs and nanoq
/// detect: the image optionally enlarged (nearest neighbour, <c>scale</c>×), and over each box a label "CLASS 0.87"
/// in a built-in 5×7 bitmap font (upper case, digits, a little punctuation) on the class colour.
/// </summary>
public static class BoxPainter
{
    private static readonly (byte R, byte G, byte B)[] Palette =
        [(230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48), (145, 30, 180), (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 212)];

    public static RgbImage Draw(RgbImage image, IEnumerable<(XyxyBox Box, int Label)> boxes) =>
        Draw(image, boxes.Select(b => (b.Box, b.Label, float.NaN)), classNames: null, scale: 1);

    /// <summary>
    /// Boxes in <paramref name="image"/>'s pixels, drawn on a copy enlarged <paramref name="scale"/> times; with
    /// <paramref name="classNames"/> each box gets its class name and score (NaN: no score) as a text label.
    /// </summary>
    public static RgbImage Draw(RgbImage image, IEnumerable<(XyxyBox Box, int Label, float Score)> boxes,
                                IReadOnlyList<string>? classNames, int scale = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(scale, 1);
        var img = Upscale(image, scale);
        int thickness = Math.Max(2, scale), textScale = scale >= 3 ? 2 : 1;
        var list = boxes.ToList();
        foreach (var (b, label, _) in list)
        {
            var c = Palette[label % Palette.Length];
            int x1 = Clamp(b.X1 * scale, img.Width), x2 = Clamp(b.X2 * scale - 1, img.Width);
            int y1 = Clamp(b.Y1 * scale, img.Height), y2 = Clamp(b.Y2 * scale - 1, img.Height);
            for (int t = 0; t < thickness; t++)
            {
                for (int x = x1; x <= x2; x++) { Set(img, x, y1 + t, c); Set(img, x, y2 - t, c); }
                for (int y = y1; y <= y2; y++) { Set(img, x1 + t, y, c); Set(img, x2 - t, y, c); }
            }
        }
        if (classNames is null) return img;
        // Labels after all boxes, so that no outline crosses a label.
        foreach (var (b, label, score) in list)
        {
            string name = label >= 0 && label < classNames.Count ? classNames[label] : label.ToString(CultureInfo.InvariantCulture);
            string text = float.IsNaN(score) ? name : $"{name} {score.ToString("F2", CultureInfo.InvariantCulture)}";
            var c = Palette[label % Palette.Length];
            int w = TextWidth(text, textScale) + 2 * textScale, h = (Font.Height + 2) * textScale;
            int x = Clamp(b.X1 * scale, img.Width), y = Clamp(b.Y1 * scale, img.Height) - h;
            if (y < 0) y = Clamp(b.Y1 * scale, img.Height); // no room above the box: inside it
            x = Math.Min(x, Math.Max(0, img.Width - w));
            Fill(img, x, y, w, h, c);
            var ink = 0.299 * c.R + 0.587 * c.G + 0.114 * c.B > 140 ? ((byte)0, (byte)0, (byte)0) : ((byte)255, (byte)255, (byte)255);
            DrawText(img, text, x + textScale, y + textScale, textScale, ink);
        }
        return img;
    }

    /// <summary>Nearest-neighbour enlargement by an integer factor.</summary>
    public static RgbImage Upscale(RgbImage image, int scale)
    {
        if (scale == 1) return new RgbImage(image.Width, image.Height, (byte[])image.Pixels.Clone());
        int w = image.Width * scale, h = image.Height * scale;
        var px = new byte[3 * w * h];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                int s = 3 * ((y / scale) * image.Width + x / scale), d = 3 * (y * w + x);
                px[d] = image.Pixels[s]; px[d + 1] = image.Pixels[s + 1]; px[d + 2] = image.Pixels[s + 2];
            }
        return new RgbImage(w, h, px);
    }

    public static int TextWidth(string text, int textScale) => text.Length == 0 ? 0 : (text.Length * (Font.Width + 1) - 1) * textScale;

    /// <summary>Text in the built-in 5×7 font, <paramref name="textScale"/>× enlarged, top-left at (x, y); lower case is drawn as upper case.</summary>
    public static void DrawText(RgbImage img, string text, int x, int y, int textScale, (byte R, byte G, byte B) ink)
    {
        foreach (char ch in text)
        {
            var rows = Font.Glyph(ch);
            for (int r = 0; r < Font.Height; r++)
                for (int col = 0; col < Font.Width; col++)
                    if ((rows[r] >> (Font.Width - 1 - col) & 1) != 0)
                        Fill(img, x + col * textScale, y + r * textScale, textScale, textScale, ink);
            x += (Font.Width + 1) * textScale;
        }
    }

    private static void Fill(RgbImage img, int x0, int y0, int w, int h, (byte R, byte G, byte B) c)
    {
        for (int y = y0; y < y0 + h; y++)
            for (int x = x0; x < x0 + w; x++) Set(img, x, y, c);
    }

    private static int Clamp(float v, int size) => Math.Clamp((int)MathF.Round(v), 0, size - 1);

    private static void Set(RgbImage img, int x, int y, (byte R, byte G, byte B) c)
    {
        if ((uint)x >= (uint)img.Width || (uint)y >= (uint)img.Height) return;
        int i = 3 * (y * img.Width + x);
        img.Pixels[i] = c.R; img.Pixels[i + 1] = c.G; img.Pixels[i + 2] = c.B;
    }

    /// <summary>A 5×7 bitmap font: 7 rows a glyph, 5 bits a row (bit 4 the leftmost column).</summary>
    public static class Font
    {
        public const int Width = 5, Height = 7;

        private static readonly Dictionary<char, byte[]> Glyphs = new()
        {
            ['A'] = [0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11], ['B'] = [0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E],
            ['C'] = [0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E], ['D'] = [0x1E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1E],
            ['E'] = [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F], ['F'] = [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10],
            ['G'] = [0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F], ['H'] = [0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
            ['I'] = [0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E], ['J'] = [0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C],
            ['K'] = [0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11], ['L'] = [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F],
            ['M'] = [0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11], ['N'] = [0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11],
            ['O'] = [0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E], ['P'] = [0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10],
            ['Q'] = [0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D], ['R'] = [0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11],
            ['S'] = [0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E], ['T'] = [0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04],
            ['U'] = [0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E], ['V'] = [0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04],
            ['W'] = [0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A], ['X'] = [0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11],
            ['Y'] = [0x11, 0x11, 0x0A, 0x04, 0x04, 0x04, 0x04], ['Z'] = [0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F],
            ['0'] = [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E], ['1'] = [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
            ['2'] = [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F], ['3'] = [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
            ['4'] = [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02], ['5'] = [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
            ['6'] = [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E], ['7'] = [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
            ['8'] = [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E], ['9'] = [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
            ['.'] = [0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C], ['-'] = [0x00, 0x00, 0x00, 0x0E, 0x00, 0x00, 0x00],
            ['/'] = [0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00], ['_'] = [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1F],
            [':'] = [0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00], [' '] = [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00],
            ['?'] = [0x0E, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04],
        };

        /// <summary>The glyph of a character (lower case as upper case; anything else is '?').</summary>
        public static byte[] Glyph(char c) => Glyphs.GetValueOrDefault(char.ToUpperInvariant(c)) ?? Glyphs['?'];
    }
}
