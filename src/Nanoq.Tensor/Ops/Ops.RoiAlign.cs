using Nanoq.Kernels;

namespace Nanoq;

public static partial class Ops
{
    // Tensor wrappers of Kernels.RoiAlign: x is [n, c, h, w], rois [K, 5] = (batch index, x1, y1, x2, y2) in image pixels.

    /// <summary>RoIAlign (torchvision's ops.roi_align): [n, c, h, w] and [K, 5] → [K, c, pooledH, pooledW].</summary>
    public static Tensor RoiAlign(Tensor x, Tensor rois, int pooledH, int pooledW, float spatialScale, int samplingRatio, bool aligned)
    {
        var (n, c, h, w) = Nchw(x, nameof(RoiAlign));
        int k = RoiCount(rois);
        var y = Tensor.Empty(Kernels.RoiAlign.OutputShape(k, c, pooledH, pooledW));
        Kernels.RoiAlign.Forward(x.Span, n, c, h, w, rois.Span, pooledH, pooledW, spatialScale, samplingRatio, aligned, y.Span);
        return y;
    }

    /// <summary>The input gradient of <see cref="RoiAlign"/>: dy [K, c, pooledH, pooledW] → dx of <paramref name="inputShape"/>.</summary>
    public static Tensor RoiAlignBackward(Tensor dy, Tensor rois, Shape inputShape, int pooledH, int pooledW, float spatialScale,
                                          int samplingRatio, bool aligned)
    {
        if (inputShape.Rank != 4) throw new ArgumentException($"{nameof(RoiAlignBackward)}: the input must be [n, c, h, w], got {inputShape}.");
        RoiCount(rois);
        var dx = Tensor.Empty(inputShape);
        Kernels.RoiAlign.Backward(dy.Span, rois.Span, inputShape[0], inputShape[1], inputShape[2], inputShape[3], pooledH, pooledW,
                                  spatialScale, samplingRatio, aligned, dx.Span);
        return dx;
    }

    private static int RoiCount(Tensor rois)
    {
        if (rois.Rank != 2 || rois.Dim(1) != 5)
            throw new ArgumentException($"RoiAlign: rois must be [K, 5] (batch index, x1, y1, x2, y2), got {rois.Shape}.");
        return rois.Dim(0);
    }
}
