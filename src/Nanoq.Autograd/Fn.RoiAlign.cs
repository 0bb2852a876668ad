using Nanoq.Kernels;

namespace Nanoq.Autograd;

public static partial class Fn
{
    /// <summary>
    /// RoIAlign, torchvision's <c>ops.roi_align</c>: x [n, c, h, w], rois [K, 5] = (batch index, x1, y1, x2, y2) in
    /// image pixels → [K, c, pooledH, pooledW]. <paramref name="spatialScale"/> maps image pixels to the map (1/stride);
    /// <paramref name="samplingRatio"/> ≤ 0 is adaptive (ceil(RoI size / pooled size) points a bin side);
    /// <paramref name="aligned"/> shifts by −0.5 pixel (torchvision's default is false, Faster R-CNN's too).
    /// The RoIs are box geometry, not a differentiable input (torchvision gives them no gradient either).
    /// Backward: <see cref="RoiAlign.Backward"/> scatters g · w / count onto the four pixels of every sampling point.
    /// </summary>
    public static Var RoiAlign(Var x, Tensor rois, int pooledH, int pooledW, float spatialScale = 1f, int samplingRatio = -1, bool aligned = false)
    {
        ShapeCheck.Rank(x.Value, 4, nameof(RoiAlign));
        if (rois.Rank != 2 || rois.Dim(1) != 5)
            throw new ArgumentException($"{nameof(RoiAlign)}: rois must be [K, 5] (batch index, x1, y1, x2, y2), got {rois.Shape}.");
        int n = x.Shape[0], c = x.Shape[1], h = x.Shape[2], w = x.Shape[3], k = rois.Dim(0);
        var y = Tensor.Empty(Kernels.RoiAlign.OutputShape(k, c, pooledH, pooledW));
        Kernels.RoiAlign.Forward(x.Value.Span, n, c, h, w, rois.Span, pooledH, pooledW, spatialScale, samplingRatio, aligned, y.Span);
        return Var.Op(y, [x], o =>
        {
            var dx = Tensor.Empty(x.Shape);
            Kernels.RoiAlign.Backward(o.Grad!.Span, rois.Span, n, c, h, w, pooledH, pooledW, spatialScale, samplingRatio, aligned, dx.Span);
            x.AccumulateGrad(dx, takeOwnership: true);
        });
    }
}
