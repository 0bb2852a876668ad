using System.Buffers;
using System.Numerics;

namespace Nanoq.Detection;

/// <summary>
/// Top-k selection of scores, for RetinaNet's per-level candidate selection before NMS
/// (<c>keep = scores &gt; score_thresh; scores[keep].topk(min(k, |keep|))</c> in torchvision's postprocess).
///
/// Result: the indices of the (at most) k largest scores, sorted by score descending; equal scores go by index,
/// lower first. torch.topk leaves the order of equal scores unspecified (its CPU kernel uses an unstable
/// partial sort), so for ties this is one of the orders torch may give, chosen deterministically; without ties it
/// is exactly torch's. A NaN counts as the largest score (torch's topk); the thresholded form drops NaNs, as
/// <c>scores &gt; thresh</c> does.
///
/// Cost O(n + k log k): a quickselect over packed (score, index) keys (<see cref="ScoreOrder"/>), then a sort
/// of the k survivors. Scratch is pooled.
/// </summary>
public static class TopK
{
    /// <summary>Indices of the k largest scores (all of them, when k ≥ n), by score descending.</summary>
    public static int[] Select(ReadOnlySpan<float> scores, int k) => Select(scores, k, threshold: null);

    /// <summary>Indices of the k largest scores strictly above <paramref name="scoreThreshold"/>, by score descending.</summary>
    public static int[] Select(ReadOnlySpan<float> scores, int k, float scoreThreshold) => Select(scores, k, (float?)scoreThreshold);

    private static int[] Select(ReadOnlySpan<float> scores, int k, float? threshold)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        if (k == 0) return [];
        ulong[] rent = ArrayPool<ulong>.Shared.Rent(Math.Max(1, scores.Length));
        try
        {
            int c = 0;
            if (threshold is float t)
            {
                for (int i = 0; i < scores.Length; i++)
                    if (scores[i] > t) rent[c++] = ScoreOrder.Key(scores[i], i);
            }
            else
            {
                for (int i = 0; i < scores.Length; i++) rent[c++] = ScoreOrder.Key(scores[i], i);
            }
            var keys = rent.AsSpan(0, c);
            if (c > k)
            {
                SelectSmallest(keys, k);
                keys = keys[..k];
            }
            keys.Sort();
            var result = new int[keys.Length];
            for (int i = 0; i < result.Length; i++) result[i] = ScoreOrder.Index(keys[i]);
            return result;
        }
        finally { ArrayPool<ulong>.Shared.Return(rent); }
    }

    /// <summary>
    /// Quickselect (Hoare partition, median-of-three pivot): afterwards keys[0..k) are the k smallest keys, in
    /// no particular order. Keys are distinct, so partitions always shrink; a depth guard falls back to a sort.
    /// </summary>
    private static void SelectSmallest(Span<ulong> keys, int k)
    {
        int lo = 0, hi = keys.Length - 1, depth = 2 * BitOperations.Log2((uint)keys.Length) + 4;
        while (hi > lo)
        {
            if (depth-- == 0)
            {
                keys[lo..(hi + 1)].Sort();
                return;
            }
            int mid = lo + ((hi - lo) >> 1);
            // median of three to keys[mid]
            if (keys[mid] < keys[lo]) (keys[mid], keys[lo]) = (keys[lo], keys[mid]);
            if (keys[hi] < keys[lo]) (keys[hi], keys[lo]) = (keys[lo], keys[hi]);
            if (keys[hi] < keys[mid]) (keys[hi], keys[mid]) = (keys[mid], keys[hi]);
            ulong pivot = keys[mid];
            int i = lo - 1, j = hi + 1;
            while (true)
            {
                do i++; while (keys[i] < pivot);
                do j--; while (keys[j] > pivot);
                if (i >= j) break;
                (keys[i], keys[j]) = (keys[j], keys[i]);
            }
            // keys[lo..j] ≤ pivot ≤ keys[j+1..hi]; the k-th smallest (position k − 1) is on one side.
            if (k - 1 <= j) hi = j;
            else lo = j + 1;
        }
    }
}
