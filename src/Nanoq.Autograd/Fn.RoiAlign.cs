namespace Nanoq.Autograd;

public static partial class Fn
{
    /// <summary>
    /// RoIAlign, torchvision's <c>ops.roi_align</c>: x [n, c, h, w], rois [K, 5] = (batch index, x1, y1, x2, y2) in
    /// image pixels → [K, c, pooledH, pooledW]. <paramref name="spatialScale"/> maps image pixels to the map (1/stride);
    /// <paramref name="samplingRatio"/> ≤ 0 is adaptive (ceil(RoI size / pooled size) points a bin side);
    /// <paramref name="aligned"/> shifts by −0.5 pixel (torchvision's default is false, Faster R-CNN's too).
    /// The RoIs are box geometry, not a differentiable input (torchvision gives them no gradient either).
    /// Backward: <see cref="Kernels.RoiAlign.Backward"/> scatters g · w / count onto the four pixels of every sampling point.
    /// </summary>
    public static Var RoiAlign(Var x, Tensor rois, int pooledH, int pooledW, float spatialScale = 1f, int samplingRatio = -1, bool aligned = false)
    {
        var y = Ops.RoiAlign(x.Value, rois, pooledH, pooledW, spatialScale, samplingRatio, aligned);
        return Var.Op(y, [x], o => x.AccumulateGrad(
            Ops.RoiAlignBackward(o.Grad!, rois, x.Shape, pooledH, pooledW, spatialScale, samplingRatio, aligned), takeOwnership: true));
    }
}
