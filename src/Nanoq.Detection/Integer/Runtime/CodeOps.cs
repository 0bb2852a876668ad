using Nanoq.Kernels.Integer;

namespace Nanoq.Detection.Integer;

/// <summary>
/// Operations that act on codes directly and keep their input's grid (Δ, z) — why each is exact:
/// <list type="bullet">
/// <item>max pooling: quantization is monotone, so the max of the codes is the code of the max;</item>
/// <item>nearest upsampling: a copy;</item>
/// <item>ReLU: real 0 is the code z, so max(x, 0) is max(q, z) on the same grid (FPN's ReLU before P7).</item>
/// </list>
/// </summary>
public static class CodeOps
{
    public static CodeTensor MaxPool(CodeTensor x, int kernel, int stride, int padding, IntForwardContext ctx)
    {
        int oh = IntPooling.OutputSize(x.Height, kernel, stride, padding), ow = IntPooling.OutputSize(x.Width, kernel, stride, padding);
        var y = ctx.Arena.Rent(x.Batch, x.Channels, oh, ow, x.ZeroPoint, x.Bits);
        IntPooling.MaxPool2d(x.Batch, x.Channels, x.Height, x.Width, kernel, kernel, stride, stride, padding, padding, x.Data, y.Data);
        return y;
    }

    /// <summary>Nearest-neighbour resize to <paramref name="height"/> × <paramref name="width"/> (src = ⌊dst·in/out⌋, as the float model).</summary>
    public static CodeTensor UpsampleNearest(CodeTensor x, int height, int width, IntForwardContext ctx)
    {
        var y = ctx.Arena.Rent(x.Batch, x.Channels, height, width, x.ZeroPoint, x.Bits);
        IntUpsample.Nearest2d(x.Batch, x.Channels, x.Height, x.Width, height, width, x.Data, y.Data);
        return y;
    }

    /// <summary>max(q, z): ReLU on codes.</summary>
    public static CodeTensor Relu(CodeTensor x, IntForwardContext ctx)
    {
        var y = ctx.Arena.Rent(x.Batch, x.Channels, x.Height, x.Width, x.ZeroPoint, x.Bits);
        System.Numerics.Tensors.TensorPrimitives.Max(x.Data, (byte)x.ZeroPoint, y.Data);
        return y;
    }
}
