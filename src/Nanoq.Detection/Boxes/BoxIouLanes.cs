using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Nanoq.Detection;

/// <summary>
/// IoU of one box a against a run of boxes b, one lane per b: the arithmetic of torchvision's <c>box_iou</c> and of
/// its CPU <c>nms</c> kernel, operation for operation, so the float32 results are bit-identical to theirs:
/// <code>
///   w = max(min(a.x2, b.x2) − max(a.x1, b.x1), 0)      h likewise in y
///   inter = w · h
///   iou = inter / ((area_a + area_b) − inter)          area = (x2 − x1)(y2 − y1), no +1
/// </code>
/// The scalar, <c>Vector256</c> and <c>Vector512</c> forms are the same formula; IEEE max/min propagate NaN as
/// <c>torch.max</c>/<c>clamp</c> do. Two zero-area boxes give 0/0 = NaN, as in torchvision.
/// </summary>
internal static class BoxIouLanes
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Iou(float ax1, float ay1, float ax2, float ay2, float aArea,
                            float bx1, float by1, float bx2, float by2, float bArea)
    {
        float w = MathF.Max(MathF.Min(ax2, bx2) - MathF.Max(ax1, bx1), 0f);
        float h = MathF.Max(MathF.Min(ay2, by2) - MathF.Max(ay1, by1), 0f);
        float inter = w * h;
        return inter / (aArea + bArea - inter);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Iou(Vector512<float> ax1, Vector512<float> ay1, Vector512<float> ax2, Vector512<float> ay2,
                                       Vector512<float> aArea, Vector512<float> bx1, Vector512<float> by1,
                                       Vector512<float> bx2, Vector512<float> by2, Vector512<float> bArea)
    {
        var w = Vector512.Max(Vector512.Min(ax2, bx2) - Vector512.Max(ax1, bx1), Vector512<float>.Zero);
        var h = Vector512.Max(Vector512.Min(ay2, by2) - Vector512.Max(ay1, by1), Vector512<float>.Zero);
        var inter = w * h;
        return inter / (aArea + bArea - inter);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Iou(Vector256<float> ax1, Vector256<float> ay1, Vector256<float> ax2, Vector256<float> ay2,
                                       Vector256<float> aArea, Vector256<float> bx1, Vector256<float> by1,
                                       Vector256<float> bx2, Vector256<float> by2, Vector256<float> bArea)
    {
        var w = Vector256.Max(Vector256.Min(ax2, bx2) - Vector256.Max(ax1, bx1), Vector256<float>.Zero);
        var h = Vector256.Max(Vector256.Min(ay2, by2) - Vector256.Max(ay1, by1), Vector256<float>.Zero);
        var inter = w * h;
        return inter / (aArea + bArea - inter);
    }
}
