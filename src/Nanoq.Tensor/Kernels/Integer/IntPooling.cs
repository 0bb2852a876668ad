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
/// Each output row takes the elementwise max of its window's input rows 64 bytes at a time, then the max of each
/// window across that row (<see cref="IntMaxPoolTask"/>); runs of planes go in parallel.
/// </summary>
public static unsafe class IntPooling
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
        int planes = batch * channels;
        if (planes == 0) return;
        // Planes in parallel, a run of them a task; small pools stay on the calling thread.
        bool parallel = (long)output.Length * kernelH * kernelW >= 1 << 20;
        int parts = planes < 8 ? planes : 8;
        fixed (byte* x = input)
        fixed (byte* y = output)
        {
            var task = new IntMaxPoolTask
            {
                X = x, Y = y, Planes = planes, Parts = parts, Height = height, Width = width, OutHeight = oh, OutWidth = ow,
                KernelH = kernelH, KernelW = kernelW, StrideH = strideH, StrideW = strideW, PadH = padH, PadW = padW,
            };
            ParallelRunner.Run(parts, ref task, parallel);
        }
    }
}
