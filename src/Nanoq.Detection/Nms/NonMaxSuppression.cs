using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Nanoq.Detection;

/// <summary>
/// Greedy non-maximum suppression: torchvision's <c>ops.nms</c> (its CPU kernel) and <c>ops.batched_nms</c>,
/// with identical results. Boxes follow the contract of <see cref="Boxes"/>; coordinates must be finite.
///
/// <para><b>nms</b>: visit boxes by score, descending — a stable order, so equal scores go by index, lower first
/// (the kernel sorts with <c>stable=true</c>); keep a box unless an already kept box has IoU &gt; threshold with
/// it (strictly: a box exactly at the threshold survives). IoU is computed in float32 exactly as the kernel does
/// and compared with the threshold as a double (the kernel's <c>ovr &gt; iou_threshold</c> promotes the float).
/// So IoU = float32(0.3) suppresses at threshold 0.3, because float32(0.3) &gt; 0.3. Zero-area pairs give
/// IoU NaN, which suppresses nothing. Output: kept indices in visiting order.</para>
///
/// <para><b>batched_nms</b>: NMS within each class, never across; output sorted by score descending, ties by
/// index ascending. torchvision runs either the coordinate trick (offset boxes by class·(max+1), one nms) up to
/// 1000 boxes or a per-class loop above; this runs the per-class loop always, because offsetting coordinates
/// rounds them and can move an IoU that sits at the threshold by an ulp. The two agree whenever the offset is
/// exact (the fixtures check both). The loop's final sort in torchvision is unstable, so past 1000 boxes its
/// order among exactly equal scores is unspecified; ours is the stable one.</para>
///
/// <para>Implementation: one sort of packed (score, index) keys (<see cref="ScoreOrder"/>); boxes gathered to
/// columns in visiting order; a suppression bitmask over visiting positions, 64 to a word, filled 16 IoUs at a
/// time with Vector512 (a whole word is one compare-and-or), suppressed boxes skipped by one bit test.
/// O(n log n + n·k) for k kept boxes; scratch is pooled.</para>
/// </summary>
public static class NonMaxSuppression
{
    /// <summary>
    /// nms over n boxes (flat, 4n floats) and n scores: indices of the kept boxes, by score descending.
    /// <paramref name="maxOutput"/> stops after that many kept boxes — the same first boxes as a full run, since
    /// the greedy order never revisits (RetinaNet keeps 100 detections an image).
    /// </summary>
    public static int[] Nms(ReadOnlySpan<float> boxes, ReadOnlySpan<float> scores, double iouThreshold, int maxOutput = int.MaxValue)
    {
        int n = Boxes.Count(boxes, nameof(boxes));
        if (scores.Length != n) throw new ArgumentException($"Nms: {n} boxes but {scores.Length} scores.");
        ArgumentOutOfRangeException.ThrowIfNegative(maxOutput);
        if (n == 0 || maxOutput == 0) return [];
        int[] order = ArrayPool<int>.Shared.Rent(n);
        try
        {
            SortByScore(scores, order.AsSpan(0, n));
            using var cols = BoxColumns.Gather(boxes, order.AsSpan(0, n));
            var keptPositions = new int[Math.Min(n, maxOutput)];
            int kept = Greedy(cols, ThresholdBelow(iouThreshold), keptPositions);
            var keep = new int[kept];
            for (int i = 0; i < kept; i++) keep[i] = order[keptPositions[i]];
            return keep;
        }
        finally { ArrayPool<int>.Shared.Return(order); }
    }

    /// <summary>nms of [n, 4] boxes and [n] scores.</summary>
    public static int[] Nms(Tensor boxes, Tensor scores, double iouThreshold, int maxOutput = int.MaxValue)
    {
        int n = Boxes.Rows(boxes, nameof(Nms));
        if (scores.Size != n || scores.Rank != 1) throw new ArgumentException($"Nms: {boxes.Shape} boxes need [{n}] scores, got {scores.Shape}.");
        return Nms(boxes.Span, scores.Span, iouThreshold, maxOutput);
    }

    /// <summary>
    /// batched_nms: NMS within each class (<paramref name="idxs"/>[i] is box i's class; any ints), kept indices
    /// sorted by score descending, ties by index; at most <paramref name="maxOutput"/> of them (the first ones).
    /// </summary>
    public static int[] BatchedNms(ReadOnlySpan<float> boxes, ReadOnlySpan<float> scores, ReadOnlySpan<int> idxs,
                                   double iouThreshold, int maxOutput = int.MaxValue)
    {
        int n = Boxes.Count(boxes, nameof(boxes));
        if (scores.Length != n || idxs.Length != n)
            throw new ArgumentException($"BatchedNms: {n} boxes but {scores.Length} scores and {idxs.Length} class ids.");
        ArgumentOutOfRangeException.ThrowIfNegative(maxOutput);
        if (n == 0 || maxOutput == 0) return [];

        float thr = ThresholdBelow(iouThreshold);
        int[] order = ArrayPool<int>.Shared.Rent(n);
        ulong[] byClass = ArrayPool<ulong>.Shared.Rent(n);
        int[] segment = ArrayPool<int>.Shared.Rent(n);
        int[] keptRent = ArrayPool<int>.Shared.Rent(n);
        bool[] keepAt = ArrayPool<bool>.Shared.Rent(n);
        try
        {
            var ord = order.AsSpan(0, n);
            SortByScore(scores, ord);
            // Group visiting positions by class, keeping visiting order within a class: sort (class, position).
            var cls = byClass.AsSpan(0, n);
            for (int p = 0; p < n; p++) cls[p] = ((ulong)(uint)(idxs[ord[p]] ^ int.MinValue) << 32) | (uint)p;
            cls.Sort();
            var keepFlags = keepAt.AsSpan(0, n);
            keepFlags.Clear();
            for (int s = 0; s < n;)
            {
                uint c = (uint)(cls[s] >> 32);
                int e = s + 1;
                while (e < n && (uint)(cls[e] >> 32) == c) e++;
                int len = e - s;
                var seg = segment.AsSpan(0, len);   // box indices of this class, in visiting order
                for (int k = 0; k < len; k++) seg[k] = ord[(int)(uint)cls[s + k]];
                using var cols = BoxColumns.Gather(boxes, seg);
                var keptPos = keptRent.AsSpan(0, len);
                int kept = Greedy(cols, thr, keptPos);
                for (int k = 0; k < kept; k++) keepFlags[(int)(uint)cls[s + keptPos[k]]] = true;
                s = e;
            }
            int count = 0;
            for (int p = 0; p < n; p++) if (keepFlags[p]) count++;
            var keep = new int[Math.Min(count, maxOutput)];
            for (int p = 0, k = 0; k < keep.Length; p++) if (keepFlags[p]) keep[k++] = ord[p];
            return keep;
        }
        finally
        {
            ArrayPool<int>.Shared.Return(order);
            ArrayPool<ulong>.Shared.Return(byClass);
            ArrayPool<int>.Shared.Return(segment);
            ArrayPool<int>.Shared.Return(keptRent);
            ArrayPool<bool>.Shared.Return(keepAt);
        }
    }

    /// <summary>batched_nms of [n, 4] boxes, [n] scores and n class ids.</summary>
    public static int[] BatchedNms(Tensor boxes, Tensor scores, ReadOnlySpan<int> idxs, double iouThreshold, int maxOutput = int.MaxValue)
    {
        int n = Boxes.Rows(boxes, nameof(BatchedNms));
        if (scores.Size != n || scores.Rank != 1) throw new ArgumentException($"BatchedNms: {boxes.Shape} boxes need [{n}] scores, got {scores.Shape}.");
        return BatchedNms(boxes.Span, scores.Span, idxs, iouThreshold, maxOutput);
    }

    /// <summary>order = indices sorted by score descending, ties by index ascending (torch's stable sort).</summary>
    internal static void SortByScore(ReadOnlySpan<float> scores, Span<int> order)
    {
        int n = scores.Length;
        ulong[] keys = ArrayPool<ulong>.Shared.Rent(n);
        try
        {
            var k = keys.AsSpan(0, n);
            for (int i = 0; i < n; i++) k[i] = ScoreOrder.Key(scores[i], i);
            k.Sort();
            for (int i = 0; i < n; i++) order[i] = ScoreOrder.Index(k[i]);
        }
        finally { ArrayPool<ulong>.Shared.Return(keys); }
    }

    /// <summary>
    /// The largest float t ≤ threshold, so that for every float x, x &gt; t ⇔ (double)x &gt; threshold: the
    /// kernel's float-vs-double comparison done in float lanes. (If x &gt; t then x is at least the next float
    /// after t, which exceeds the threshold; the converse is immediate.)
    /// </summary>
    internal static float ThresholdBelow(double threshold)
    {
        if (double.IsNaN(threshold)) throw new ArgumentException("Nms: the IoU threshold is NaN.");
        float t = (float)threshold;
        if (t > threshold) t = MathF.BitDecrement(t);
        return t;
    }

    /// <summary>
    /// The greedy sweep over boxes already in visiting order (columns); writes kept positions to
    /// <paramref name="keptPositions"/> until it is full, returns how many.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Greedy(in BoxColumns cols, float thr, Span<int> keptPositions)
    {
        int n = cols.Count;
        int words = (n + 63) >> 6;
        ulong[] rent = ArrayPool<ulong>.Shared.Rent(words);
        var suppressed = rent.AsSpan(0, words);
        suppressed.Clear();
        ref float x1 = ref cols.Column(0), y1 = ref cols.Column(1), x2 = ref cols.Column(2),
                  y2 = ref cols.Column(3), area = ref cols.Column(4);
        int kept = 0;
        try
        {
            for (int i = 0; i < n; i++)
            {
                if ((suppressed[i >> 6] & (1UL << (i & 63))) != 0) continue;
                keptPositions[kept++] = i;
                if (kept == keptPositions.Length) break;
                float ix1 = Unsafe.Add(ref x1, i), iy1 = Unsafe.Add(ref y1, i), ix2 = Unsafe.Add(ref x2, i),
                      iy2 = Unsafe.Add(ref y2, i), ia = Unsafe.Add(ref area, i);
                int start = i + 1;
                int w = start >> 6;
                // The first word holds positions ≤ i too: those are decided and must not change.
                ulong firstMask = ulong.MaxValue << (start & 63);
                int fullWords = n >> 6;
                for (; w < fullWords; w++)
                {
                    if (suppressed[w] == ulong.MaxValue) { firstMask = ulong.MaxValue; continue; }
                    ulong bits = Word(ix1, iy1, ix2, iy2, ia, ref x1, ref y1, ref x2, ref y2, ref area, w << 6, thr);
                    suppressed[w] |= bits & firstMask;
                    firstMask = ulong.MaxValue;
                }
                // The last, partial word: scalar.
                for (int j = Math.Max(start, fullWords << 6); j < n; j++)
                {
                    float iou = BoxIouLanes.Iou(ix1, iy1, ix2, iy2, ia, Unsafe.Add(ref x1, j), Unsafe.Add(ref y1, j),
                                                Unsafe.Add(ref x2, j), Unsafe.Add(ref y2, j), Unsafe.Add(ref area, j));
                    if (iou > thr) suppressed[j >> 6] |= 1UL << (j & 63);
                }
            }
        }
        finally { ArrayPool<ulong>.Shared.Return(rent); }
        return kept;
    }

    /// <summary>Bit b of the result: IoU(box i, box j0 + b) &gt; thr, for 64 consecutive positions from j0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Word(float ix1, float iy1, float ix2, float iy2, float ia,
                              ref float x1, ref float y1, ref float x2, ref float y2, ref float area, int j0, float thr)
    {
        ulong bits = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> vx1 = Vector512.Create(ix1), vy1 = Vector512.Create(iy1), vx2 = Vector512.Create(ix2),
                             vy2 = Vector512.Create(iy2), va = Vector512.Create(ia), vt = Vector512.Create(thr);
            for (int b = 0; b < 64; b += 16)
            {
                nuint o = (nuint)(j0 + b);
                var iou = BoxIouLanes.Iou(vx1, vy1, vx2, vy2, va,
                                          Vector512.LoadUnsafe(ref x1, o), Vector512.LoadUnsafe(ref y1, o),
                                          Vector512.LoadUnsafe(ref x2, o), Vector512.LoadUnsafe(ref y2, o),
                                          Vector512.LoadUnsafe(ref area, o));
                bits |= Vector512.GreaterThan(iou, vt).ExtractMostSignificantBits() << b;
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> vx1 = Vector256.Create(ix1), vy1 = Vector256.Create(iy1), vx2 = Vector256.Create(ix2),
                             vy2 = Vector256.Create(iy2), va = Vector256.Create(ia), vt = Vector256.Create(thr);
            for (int b = 0; b < 64; b += 8)
            {
                nuint o = (nuint)(j0 + b);
                var iou = BoxIouLanes.Iou(vx1, vy1, vx2, vy2, va,
                                          Vector256.LoadUnsafe(ref x1, o), Vector256.LoadUnsafe(ref y1, o),
                                          Vector256.LoadUnsafe(ref x2, o), Vector256.LoadUnsafe(ref y2, o),
                                          Vector256.LoadUnsafe(ref area, o));
                bits |= (ulong)Vector256.GreaterThan(iou, vt).ExtractMostSignificantBits() << b;
            }
        }
        else
        {
            for (int b = 0; b < 64; b++)
            {
                int j = j0 + b;
                float iou = BoxIouLanes.Iou(ix1, iy1, ix2, iy2, ia, Unsafe.Add(ref x1, j), Unsafe.Add(ref y1, j),
                                            Unsafe.Add(ref x2, j), Unsafe.Add(ref y2, j), Unsafe.Add(ref area, j));
                if (iou > thr) bits |= 1UL << b;
            }
        }
        return bits;
    }
}
