using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Nanoq.Detection;

/// <summary>
/// Box arithmetic, after torchvision's <c>ops/boxes.py</c>.
///
/// <para><b>The box contract</b> (DESIGN.md §6), stated once for every detection utility in this namespace:
/// a box is four float32 numbers (x1, y1, x2, y2) in input-image pixels, with x1 ≤ x2 and y1 ≤ y2 for a proper
/// box; a set of n boxes is a flat row-major span of length 4n, or a <see cref="Tensor"/> of shape [n, 4].
/// Corners are continuous coordinates, so width = x2 − x1, height = y2 − y1 and
/// area = (x2 − x1)(y2 − y1), with no "+1" (torchvision's convention, not the old Detectron one). COCO's
/// (x, y, w, h) lives only at the json edge (Nanoq.Coco).</para>
///
/// Results are computed with torchvision's float32 operations in torchvision's order, so they agree with it
/// bit for bit (checked against fixtures).
/// </summary>
public static class Boxes
{
    // ---- area ---------------------------------------------------------------------------------------------

    /// <summary>box_area: areaᵢ = (x2ᵢ − x1ᵢ)(y2ᵢ − y1ᵢ).</summary>
    public static void Area(ReadOnlySpan<float> boxes, Span<float> area)
    {
        int n = Count(boxes, nameof(boxes));
        if (area.Length != n) throw new ArgumentException($"Area: {n} boxes need {n} outputs, got {area.Length}.");
        for (int i = 0; i < n; i++)
        {
            var b = boxes.Slice(4 * i, 4);
            area[i] = (b[2] - b[0]) * (b[3] - b[1]);
        }
    }

    /// <summary>box_area of [n, 4] boxes: a pooled [n] tensor.</summary>
    public static Tensor Area(Tensor boxes)
    {
        int n = Rows(boxes, nameof(Area));
        var area = Tensor.Empty(n);
        Area(boxes.Span, area.Span);
        return area;
    }

    // ---- IoU ----------------------------------------------------------------------------------------------

    /// <summary>
    /// IoU of two single boxes (see <see cref="BoxIouLanes"/> for the formula); NaN for two zero-area boxes.
    /// </summary>
    public static float Iou(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != 4 || b.Length != 4) throw new ArgumentException("Iou: a box has 4 coordinates.");
        return BoxIouLanes.Iou(a[0], a[1], a[2], a[3], (a[2] - a[0]) * (a[3] - a[1]),
                               b[0], b[1], b[2], b[3], (b[2] - b[0]) * (b[3] - b[1]));
    }

    /// <summary>
    /// box_iou: the [n, m] matrix iou[i, j] = |bᵢ ∩ cⱼ| / |bᵢ ∪ cⱼ| of boxes1 (n) against boxes2 (m), row-major.
    /// A tight loop over j, vectorized across boxes2 (which is transposed to columns once); no allocation per
    /// element. Put the larger set (anchors) second: rows of the matcher's quality matrix are ground-truth boxes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Iou(ReadOnlySpan<float> boxes1, ReadOnlySpan<float> boxes2, Span<float> iou)
    {
        int n = Count(boxes1, nameof(boxes1)), m = Count(boxes2, nameof(boxes2));
        if (iou.Length != n * m) throw new ArgumentException($"Iou: [{n}, {m}] needs {n * m} outputs, got {iou.Length}.");
        if (n == 0 || m == 0) return;
        using var cols = BoxColumns.From(boxes2);
        ref float bx1 = ref cols.Column(0), by1 = ref cols.Column(1), bx2 = ref cols.Column(2),
                  by2 = ref cols.Column(3), bArea = ref cols.Column(4);
        for (int i = 0; i < n; i++)
        {
            var a = boxes1.Slice(4 * i, 4);
            float ax1 = a[0], ay1 = a[1], ax2 = a[2], ay2 = a[3], aArea = (ax2 - ax1) * (ay2 - ay1);
            ref float row = ref MemoryMarshal.GetReference(iou.Slice(i * m, m));
            int j = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                Vector512<float> vx1 = Vector512.Create(ax1), vy1 = Vector512.Create(ay1), vx2 = Vector512.Create(ax2),
                                 vy2 = Vector512.Create(ay2), va = Vector512.Create(aArea);
                for (; j <= m - 16; j += 16)
                {
                    nuint o = (nuint)j;
                    BoxIouLanes.Iou(vx1, vy1, vx2, vy2, va,
                                    Vector512.LoadUnsafe(ref bx1, o), Vector512.LoadUnsafe(ref by1, o),
                                    Vector512.LoadUnsafe(ref bx2, o), Vector512.LoadUnsafe(ref by2, o),
                                    Vector512.LoadUnsafe(ref bArea, o)).StoreUnsafe(ref row, o);
                }
            }
            if (Vector256.IsHardwareAccelerated)
            {
                Vector256<float> vx1 = Vector256.Create(ax1), vy1 = Vector256.Create(ay1), vx2 = Vector256.Create(ax2),
                                 vy2 = Vector256.Create(ay2), va = Vector256.Create(aArea);
                for (; j <= m - 8; j += 8)
                {
                    nuint o = (nuint)j;
                    BoxIouLanes.Iou(vx1, vy1, vx2, vy2, va,
                                    Vector256.LoadUnsafe(ref bx1, o), Vector256.LoadUnsafe(ref by1, o),
                                    Vector256.LoadUnsafe(ref bx2, o), Vector256.LoadUnsafe(ref by2, o),
                                    Vector256.LoadUnsafe(ref bArea, o)).StoreUnsafe(ref row, o);
                }
            }
            for (; j < m; j++)
                Unsafe.Add(ref row, j) = BoxIouLanes.Iou(ax1, ay1, ax2, ay2, aArea,
                    Unsafe.Add(ref bx1, j), Unsafe.Add(ref by1, j), Unsafe.Add(ref bx2, j), Unsafe.Add(ref by2, j),
                    Unsafe.Add(ref bArea, j));
        }
    }

    /// <summary>box_iou of [n, 4] and [m, 4] boxes: a pooled [n, m] tensor.</summary>
    public static Tensor Iou(Tensor boxes1, Tensor boxes2)
    {
        int n = Rows(boxes1, nameof(Iou)), m = Rows(boxes2, nameof(Iou));
        var iou = Tensor.Empty(n, m);
        Iou(boxes1.Span, boxes2.Span, iou.Span);
        return iou;
    }

    // ---- clip, remove small -------------------------------------------------------------------------------

    /// <summary>
    /// clip_boxes_to_image: x ← clamp(x, 0, width), y ← clamp(y, 0, height) for both corners. Note the order
    /// (height, width), torchvision's. <paramref name="output"/> may be <paramref name="boxes"/> itself.
    /// </summary>
    public static void ClipToImage(ReadOnlySpan<float> boxes, int height, int width, Span<float> output)
    {
        int n = Count(boxes, nameof(boxes));
        if (output.Length != boxes.Length) throw new ArgumentException($"ClipToImage: {n} boxes need {boxes.Length} outputs, got {output.Length}.");
        float w = width, h = height;
        for (int k = 0; k < boxes.Length; k += 2)
        {
            // torch.clamp(min, max) = min(max(x, lo), hi); NaN stays NaN.
            output[k] = MathF.Min(MathF.Max(boxes[k], 0f), w);
            output[k + 1] = MathF.Min(MathF.Max(boxes[k + 1], 0f), h);
        }
    }

    /// <summary>clip_boxes_to_image of [n, 4] boxes: a pooled copy.</summary>
    public static Tensor ClipToImage(Tensor boxes, int height, int width)
    {
        Rows(boxes, nameof(ClipToImage));
        var y = Tensor.Empty(boxes.Shape);
        ClipToImage(boxes.Span, height, width, y.Span);
        return y;
    }

    /// <summary>
    /// remove_small_boxes: indices (ascending) of the boxes with width ≥ minSize and height ≥ minSize.
    /// </summary>
    public static int[] RemoveSmall(ReadOnlySpan<float> boxes, float minSize)
    {
        int n = Count(boxes, nameof(boxes));
        var keep = new List<int>(n);
        for (int i = 0; i < n; i++)
        {
            var b = boxes.Slice(4 * i, 4);
            if (b[2] - b[0] >= minSize && b[3] - b[1] >= minSize) keep.Add(i);
        }
        return keep.ToArray();
    }

    /// <summary>remove_small_boxes of [n, 4] boxes.</summary>
    public static int[] RemoveSmall(Tensor boxes, float minSize)
    {
        Rows(boxes, nameof(RemoveSmall));
        return RemoveSmall(boxes.Span, minSize);
    }

    // ---- format conversion --------------------------------------------------------------------------------

    /// <summary>
    /// box_convert xyxy → cxcywh: cx = (x1 + x2)/2, cy = (y1 + y2)/2, w = x2 − x1, h = y2 − y1.
    /// <paramref name="output"/> may be <paramref name="boxes"/> itself.
    /// </summary>
    public static void XyxyToCxcywh(ReadOnlySpan<float> boxes, Span<float> output)
    {
        Count(boxes, nameof(boxes));
        if (output.Length != boxes.Length) throw new ArgumentException($"XyxyToCxcywh: output length {output.Length} != {boxes.Length}.");
        for (int k = 0; k < boxes.Length; k += 4)
        {
            float x1 = boxes[k], y1 = boxes[k + 1], x2 = boxes[k + 2], y2 = boxes[k + 3];
            output[k] = (x1 + x2) / 2;
            output[k + 1] = (y1 + y2) / 2;
            output[k + 2] = x2 - x1;
            output[k + 3] = y2 - y1;
        }
    }

    /// <summary>
    /// box_convert cxcywh → xyxy: x1 = cx − 0.5w, y1 = cy − 0.5h, x2 = cx + 0.5w, y2 = cy + 0.5h.
    /// <paramref name="output"/> may be <paramref name="boxes"/> itself.
    /// </summary>
    public static void CxcywhToXyxy(ReadOnlySpan<float> boxes, Span<float> output)
    {
        Count(boxes, nameof(boxes));
        if (output.Length != boxes.Length) throw new ArgumentException($"CxcywhToXyxy: output length {output.Length} != {boxes.Length}.");
        for (int k = 0; k < boxes.Length; k += 4)
        {
            float cx = boxes[k], cy = boxes[k + 1], w = boxes[k + 2], h = boxes[k + 3];
            output[k] = cx - 0.5f * w;
            output[k + 1] = cy - 0.5f * h;
            output[k + 2] = cx + 0.5f * w;
            output[k + 3] = cy + 0.5f * h;
        }
    }

    /// <summary>box_convert xyxy → cxcywh of [n, 4] boxes: a pooled copy.</summary>
    public static Tensor XyxyToCxcywh(Tensor boxes)
    {
        Rows(boxes, nameof(XyxyToCxcywh));
        var y = Tensor.Empty(boxes.Shape);
        XyxyToCxcywh(boxes.Span, y.Span);
        return y;
    }

    /// <summary>box_convert cxcywh → xyxy of [n, 4] boxes: a pooled copy.</summary>
    public static Tensor CxcywhToXyxy(Tensor boxes)
    {
        Rows(boxes, nameof(CxcywhToXyxy));
        var y = Tensor.Empty(boxes.Shape);
        CxcywhToXyxy(boxes.Span, y.Span);
        return y;
    }

    // ---- argument checks ----------------------------------------------------------------------------------

    /// <summary>The number of boxes in a flat span; throws unless its length is a multiple of 4.</summary>
    internal static int Count(ReadOnlySpan<float> boxes, string name)
    {
        if ((boxes.Length & 3) != 0)
            throw new ArgumentException($"{name}: a flat box span has 4 floats a box, got length {boxes.Length}.");
        return boxes.Length >> 2;
    }

    /// <summary>The number of rows of an [n, 4] tensor; throws for any other shape.</summary>
    internal static int Rows(Tensor boxes, string op)
    {
        if (boxes.Rank != 2 || boxes.Dim(1) != 4)
            throw new ArgumentException($"{op}: boxes must have shape [n, 4], got {boxes.Shape}.");
        return boxes.Dim(0);
    }
}
