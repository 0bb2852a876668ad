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

    /// <summary>
    /// Bilinear resizing of float planes (CHW, <paramref name="channels"/> × <paramref name="height"/> ×
    /// <paramref name="width"/>) in PyTorch 1.13's CPU <c>upsample_bilinear2d</c> arithmetic (align_corners=False, no
    /// scale given, as <c>interpolate(recompute_scale_factor=True)</c> calls it), so that a normalized image matches
    /// torchvision's to float rounding. Per axis, with r = (float)in / out in float32: source
    /// s = max((double)r · (i + 0.5) − 0.5, 0) in double, i0 = (int)s, i1 = min(i0 + 1, in − 1),
    /// λ1 = (float)(s − i0), λ0 = 1 − λ1 in float32; an axis whose size does not change is copied (i0 = i1 = i,
    /// λ = 1, 0). Then, in float32,
    /// out = fma(t, λy0, u·λy1) with t = fma(src[y0, x0], λx0, src[y0, x1]·λx1) and u likewise on row y1: the
    /// AVX2 build of PyTorch's kernel (what an x86-64 CPU with AVX2 runs) is compiled with FMA contraction, and its
    /// <c>t0 * w0 + t1 * w1</c> becomes exactly this. Against Debian's torch 1.13 the result is bit-exact;
    /// PyTorch's kernel without FMA (other CPUs) differs from it by an ulp here and there.
    /// The byte resampler above cannot stand in: it rounds to bytes after resizing, and torchvision resizes after
    /// normalizing.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float[] BilinearChw(ReadOnlySpan<float> src, int channels, int height, int width, int outHeight, int outWidth)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outHeight);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outWidth);
        if (src.Length != checked(channels * height * width))
            throw new ArgumentException($"expected {channels * height * width} floats, got {src.Length}", nameof(src));
        var (x0, x1, wx0, wx1) = TorchTaps(width, outWidth);
        var (y0, y1, wy0, wy1) = TorchTaps(height, outHeight);
        var dst = new float[checked(channels * outHeight * outWidth)];
        // A source row's horizontal interpolation does not depend on the output row, so the two rows in use are kept
        // (k0, k1) and each is computed once per run of output rows that reads it.
        var h0 = new float[outWidth];
        var h1 = new float[outWidth];
        for (int c = 0; c < channels; c++)
        {
            var plane = src.Slice(c * height * width, height * width);
            int k0 = -1, k1 = -1;
            for (int y = 0; y < outHeight; y++)
            {
                int r0 = y0[y], r1 = y1[y];
                if (r0 != k0)
                {
                    if (r0 == k1) { (h0, h1, k0, k1) = (h1, h0, k1, k0); }
                    else { Horizontal(plane.Slice(r0 * width, width), x0, x1, wx0, wx1, h0); k0 = r0; }
                }
                if (r1 != k1) { Horizontal(plane.Slice(r1 * width, width), x0, x1, wx0, wx1, h1); k1 = r1; }
                float ly0 = wy0[y], ly1 = wy1[y];
                var row = dst.AsSpan((c * outHeight + y) * outWidth, outWidth);
                for (int x = 0; x < row.Length; x++) row[x] = MathF.FusedMultiplyAdd(h0[x], ly0, h1[x] * ly1);
            }
        }
        return dst;
    }

    /// <summary>One source row interpolated along x: fma(row[x0], λx0, row[x1]·λx1) (.NET never contracts a·b + c on its own).</summary>
    private static void Horizontal(ReadOnlySpan<float> row, int[] x0, int[] x1, float[] wx0, float[] wx1, Span<float> dst)
    {
        for (int x = 0; x < dst.Length; x++) dst[x] = MathF.FusedMultiplyAdd(row[x0[x]], wx0[x], row[x1[x]] * wx1[x]);
    }

    /// <summary>PyTorch's <c>compute_source_index_and_lambda</c> for every output index of one axis.</summary>
    private static (int[] I0, int[] I1, float[] L0, float[] L1) TorchTaps(int inSize, int outSize)
    {
        var i0 = new int[outSize];
        var i1 = new int[outSize];
        var l0 = new float[outSize];
        var l1 = new float[outSize];
        float ratio = (float)inSize / outSize;
        for (int i = 0; i < outSize; i++)
        {
            if (inSize == outSize)
            {
                (i0[i], i1[i], l0[i], l1[i]) = (i, i, 1f, 0f);
                continue;
            }
            // The source index is computed in double (acc_type<float> on CPU), the weights stored as float.
            double s = Math.Max(ratio * (i + 0.5) - 0.5, 0);
            int k = (int)s;
            i0[i] = k;
            i1[i] = k < inSize - 1 ? k + 1 : k;
            l1[i] = (float)(s - k);
            l0[i] = 1f - l1[i];
        }
        return (i0, i1, l0, l1);
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
