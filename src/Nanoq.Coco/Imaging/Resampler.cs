using System.Runtime.CompilerServices;

namespace Nanoq.Coco.Imaging;

/// <summary>
/// Bilinear resizing of RGB images with half-pixel centres (PyTorch's <c>interpolate(mode="bilinear",
/// align_corners=False)</c>, no antialiasing, as torchvision's detection transform): output pixel centre
/// (x + 0.5) maps to input (x + 0.5)·in/out − 0.5, clamped to the image. Written by hand so that the result is the
/// same on every machine and version (data sets are compared byte for byte).
/// </summary>
public static class Resampler
{
    public static RgbImage Bilinear(RgbImage src, int width, int height)
    {
        var dst = new RgbImage(width, height);
        Bilinear(src, dst, 0, 0, width, height);
        return dst;
    }

    /// <summary>Resizes <paramref name="src"/> into the <paramref name="width"/>×<paramref name="height"/> rectangle of <paramref name="dst"/> at (x0, y0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Bilinear(RgbImage src, RgbImage dst, int x0, int y0, int width, int height)
    {
        if (x0 < 0 || y0 < 0 || x0 + width > dst.Width || y0 + height > dst.Height)
            throw new ArgumentOutOfRangeException(nameof(width), "target rectangle is outside the destination image");
        var (xi, xw) = Taps(src.Width, width);
        var (yi, yw) = Taps(src.Height, height);
        byte[] s = src.Pixels, d = dst.Pixels;
        int sStride = src.Width * 3;
        for (int y = 0; y < height; y++)
        {
            int r0 = yi[y] * sStride, r1 = Math.Min(yi[y] + 1, src.Height - 1) * sStride;
            float wy = yw[y];
            int o = ((y0 + y) * dst.Width + x0) * 3;
            for (int x = 0; x < width; x++)
            {
                int c0 = xi[x] * 3, c1 = Math.Min(xi[x] + 1, src.Width - 1) * 3;
                float wx = xw[x];
                for (int c = 0; c < 3; c++)
                {
                    float top = s[r0 + c0 + c] + wx * (s[r0 + c1 + c] - s[r0 + c0 + c]);
                    float bottom = s[r1 + c0 + c] + wx * (s[r1 + c1 + c] - s[r1 + c0 + c]);
                    float v = top + wy * (bottom - top);
                    d[o++] = (byte)Math.Clamp((int)MathF.Round(v), 0, 255);
                }
            }
        }
    }

    /// <summary>For each output index: the left input index and the weight of the right neighbour.</summary>
    private static (int[] Index, float[] Weight) Taps(int inSize, int outSize)
    {
        var index = new int[outSize];
        var weight = new float[outSize];
        double scale = (double)inSize / outSize;
        for (int i = 0; i < outSize; i++)
        {
            double src = Math.Max((i + 0.5) * scale - 0.5, 0);
            int i0 = Math.Min((int)src, inSize - 1);
            index[i] = i0;
            weight[i] = (float)(src - i0);
        }
        return (index, weight);
    }
}
