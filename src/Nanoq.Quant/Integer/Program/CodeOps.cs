using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Nanoq.Kernels.Integer;

namespace Nanoq.Quant.Integer.Program;

/// <summary>
/// The code kernels of the ops that keep their input's grid (Δ, z) — why each is exact:
/// <list type="bullet">
/// <item>max pooling: quantization is monotone, so the max of the codes is the code of the max;</item>
/// <item>nearest upsampling, concatenation, flattening: copies;</item>
/// <item>ReLU: real 0 is the code z, so max(x, 0) is max(q, z) on the same grid.</item>
/// </list>
/// </summary>
public static class CodeOps
{
    /// <summary>
    /// k×k max pooling with stride s and padding p (padding never wins: PyTorch pads with −∞) on codes, by
    /// <see cref="IntPooling.MaxPool2d"/>.
    /// </summary>
    public static CodeTensor MaxPool(CodeTensor x, int kernel, int stride, int padding, CodeArena arena)
    {
        if (kernel < 1 || stride < 1 || padding < 0 || 2 * padding > kernel)
            throw new ArgumentException($"MaxPool: kernel {kernel}, stride {stride}, padding {padding} (padding at most half the kernel).");
        int h = x.Height, w = x.Width;
        int oh = IntPooling.OutputSize(h, kernel, stride, padding), ow = IntPooling.OutputSize(w, kernel, stride, padding);
        if (oh < 1 || ow < 1) throw new ArgumentException($"MaxPool: kernel {kernel} does not fit {x.ShapeText} with padding {padding}.");
        var y = arena.Rent([x.Batch, x.Channels, oh, ow], x.ZeroPoint, x.Bits);
        IntPooling.MaxPool2d(x.Batch, x.Channels, h, w, kernel, kernel, stride, stride, padding, padding, x.Data, y.Data);
        return y;
    }
}
