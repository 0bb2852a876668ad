namespace Nanoq.Autograd;

public static partial class Fn
{
    /// <summary>Max pooling, square window; padding is −∞. Backward routes g to each window's (first) maximum.</summary>
    public static Var MaxPool2d(Var x, int kernel, int stride, int padding = 0)
    {
        Var r;
        if (!GradMode.IsEnabled || !x.RequiresGrad)
            r = Var.Op(Ops.MaxPool2d(x.Value, kernel, stride, padding), [x], _ => { });
        else
        {
            var y = Ops.MaxPool2d(x.Value, kernel, stride, padding, out var argmax);
            r = Var.Op(y, [x],
                o => x.AccumulateGrad(Ops.MaxPool2dBackward(o.Grad!, argmax, x.Shape, kernel, stride, padding), takeOwnership: true),
                release: () => TensorPool.Return(argmax)); // argmax is pooled scratch (flat index in each h·w plane)
        }
        OpTrace.Op("maxpool", r, [x], kernel, stride, padding);
        return r;
    }

    /// <summary>Average pooling, square window, padding counted in the divisor (PyTorch's default).</summary>
    public static Var AvgPool2d(Var x, int kernel, int stride, int padding = 0)
    {
        var y = Ops.AvgPool2d(x.Value, kernel, stride, padding);
        return Var.Op(y, [x], o =>
            x.AccumulateGrad(Ops.AvgPool2dBackward(o.Grad!, x.Shape, kernel, stride, padding), takeOwnership: true));
    }

    /// <summary>[n, c, h, w] → [n, c], the mean over each plane. Backward spreads g / (h·w).</summary>
    public static Var GlobalAvgPool(Var x)
    {
        var y = Ops.GlobalAvgPool(x.Value);
        return Var.Op(y, [x], o => x.AccumulateGrad(Ops.GlobalAvgPoolBackward(o.Grad!, x.Shape), takeOwnership: true));
    }

    /// <summary>Nearest-neighbour upsampling by an integer factor. Backward sums each scale×scale block of g.</summary>
    public static Var UpsampleNearest(Var x, int scale)
    {
        var y = Ops.UpsampleNearest2d(x.Value, scale);
        return Var.Op(y, [x], o => x.AccumulateGrad(Ops.UpsampleNearest2dBackward(o.Grad!, scale), takeOwnership: true));
    }

    /// <summary>Nearest-neighbour resize to (outH, outW) with PyTorch's index rule src = ⌊dst · in / out⌋
    /// (FPN's top-down path when sizes are odd).</summary>
    public static Var UpsampleNearest(Var x, int outH, int outW)
    {
        var y = Ops.UpsampleNearest2d(x.Value, outH, outW);
        return Var.Op(y, [x], o => x.AccumulateGrad(Ops.UpsampleNearest2dBackward(o.Grad!, x.Shape), takeOwnership: true));
    }

    /// <summary>
    /// Nearest-neighbour resize of x [N, C, h, w] to the spatial size of <paramref name="sizeOf"/> [·, ·, H, W] (FPN's
    /// top-down step, torchvision's <c>interpolate(size=lateral.shape[-2:])</c>). Taking the size from a tensor rather
    /// than as numbers keeps a traced program valid for every input size.
    /// </summary>
    public static Var UpsampleNearest(Var x, Var sizeOf)
    {
        var r = UpsampleNearest(x, sizeOf.Shape[2], sizeOf.Shape[3]);
        OpTrace.Op("upsample", r, [x, sizeOf]);
        return r;
    }
}
