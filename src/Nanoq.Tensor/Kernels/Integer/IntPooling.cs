using System.Runtime.CompilerServices;

namespace Nanoq.Kernels.Integer;

/// <summary>
/// Max pooling on codes. Quantization is monotone (q = clamp(round(x/Δ) + z) never reverses an order), so the max of
/// the codes is the code of the max: no requantization, the output keeps the input's (Δ, z). Padding positions are
/// skipped (PyTorch pads max pooling with −∞), so a window always takes a real element.
/// <code>
///     y[n, c, oy, ox] = max_{ky, kx : in bounds} x[n, c, oy·s_h − p_h + ky, ox·s_w − p_w + kx]
///     OH = ⌊(H + 2·p_h − KH) / s_h⌋ + 1   (floor mode)
/// </code>
/// Scalar: pooling is a few percent of a detector's time and memory-bound.
/// </summary>
public static class IntPooling
{
    public static int OutputSize(int size, int kernel, int stride, int padding) => (size + 2 * padding - kernel) / stride + 1;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MaxPool2d(int batch, int channels, int height, int width, int kernelH, int kernelW, int strideH, int strideW,
        int padH, int padW, ReadOnlySpan<byte> input, Span<byte> output)
    {
        if (kernelH < 1 || kernelW < 1 || strideH < 1 || strideW < 1 || padH < 0 || padW < 0)
            throw new ArgumentException("IntPooling.MaxPool2d: kernel and stride must be positive, padding non-negative.");
        if (2 * padH > kernelH || 2 * padW > kernelW)
            throw new ArgumentException($"IntPooling.MaxPool2d: padding {padH}x{padW} must be at most half the kernel {kernelH}x{kernelW} (PyTorch's rule).");
        int oh = OutputSize(height, kernelH, strideH, padH), ow = OutputSize(width, kernelW, strideW, padW);
        if (oh < 1 || ow < 1) throw new ArgumentException($"IntPooling.MaxPool2d: kernel {kernelH}x{kernelW} does not fit {height}x{width} with padding {padH}x{padW}.");
        if (input.Length != (long)batch * channels * height * width)
            throw new ArgumentException($"IntPooling.MaxPool2d: input has {input.Length} codes, expected [{batch}, {channels}, {height}, {width}].");
        if (output.Length != (long)batch * channels * oh * ow)
            throw new ArgumentException($"IntPooling.MaxPool2d: output has {output.Length} codes, expected [{batch}, {channels}, {oh}, {ow}].");
        for (int plane = 0; plane < batch * channels; plane++)
        {
            var x = input.Slice(plane * height * width, height * width);
            var y = output.Slice(plane * oh * ow, oh * ow);
            for (int oy = 0; oy < oh; oy++)
            {
                int y0 = oy * strideH - padH, y1 = y0 + kernelH;
                if (y0 < 0) y0 = 0;
                if (y1 > height) y1 = height;
                for (int ox = 0; ox < ow; ox++)
                {
                    int x0 = ox * strideW - padW, x1 = x0 + kernelW;
                    if (x0 < 0) x0 = 0;
                    if (x1 > width) x1 = width;
                    int m = 0;
                    for (int iy = y0; iy < y1; iy++)
                        for (int ix = x0; ix < x1; ix++)
                            if (x[iy * width + ix] > m) m = x[iy * width + ix];
                    y[oy * ow + ox] = (byte)m;
                }
            }
        }
    }
}
