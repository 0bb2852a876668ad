using Nanoq.Coco;
using Nanoq.Coco.Imaging;

namespace Nanoq.Cli.Reports;

/// <summary>Draws detection boxes (2-px outlines, one colour a class) onto an image, for the run folder's preview PNGs.</summary>
public static class BoxPainter
{
    private static readonly (byte R, byte G, byte B)[] Palette =
        [(230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48), (145, 30, 180), (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 212)];

    public static RgbImage Draw(RgbImage image, IEnumerable<(XyxyBox Box, int Label)> boxes)
    {
        var img = new RgbImage(image.Width, image.Height, (byte[])image.Pixels.Clone());
        foreach (var (b, label) in boxes)
        {
            var c = Palette[label % Palette.Length];
            int x1 = Clamp(b.X1, img.Width), x2 = Clamp(b.X2 - 1, img.Width), y1 = Clamp(b.Y1, img.Height), y2 = Clamp(b.Y2 - 1, img.Height);
            for (int t = 0; t < 2; t++)
            {
                for (int x = x1; x <= x2; x++) { Set(img, x, y1 + t, c); Set(img, x, y2 - t, c); }
                for (int y = y1; y <= y2; y++) { Set(img, x1 + t, y, c); Set(img, x2 - t, y, c); }
            }
        }
        return img;
    }

    private static int Clamp(float v, int size) => Math.Clamp((int)MathF.Round(v), 0, size - 1);

    private static void Set(RgbImage img, int x, int y, (byte R, byte G, byte B) c)
    {
        if ((uint)x >= (uint)img.Width || (uint)y >= (uint)img.Height) return;
        int i = 3 * (y * img.Width + x);
        img.Pixels[i] = c.R; img.Pixels[i + 1] = c.G; img.Pixels[i + 2] = c.B;
    }
}
