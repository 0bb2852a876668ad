namespace Nanoq.Detection.Tests;

/// <summary>
/// A literal transcription of torchvision's CPU nms kernel (stable descending sort, per-pair IoU in float,
/// <c>ovr &gt; iou_threshold</c> in double) and of the per-class batched_nms, for checking the fast version.
/// </summary>
internal static class NaiveNms
{
    public static int[] Nms(float[] boxes, float[] scores, double thr)
    {
        int n = scores.Length;
        // Stable descending sort; NaN first (as torch's sort). OrderBy is stable.
        var order = Enumerable.Range(0, n).OrderBy(i => float.IsNaN(scores[i]) ? 0 : 1).ThenByDescending(i => float.IsNaN(scores[i]) ? 0 : scores[i]).ToArray();
        var area = new float[n];
        for (int i = 0; i < n; i++) area[i] = (boxes[4 * i + 2] - boxes[4 * i]) * (boxes[4 * i + 3] - boxes[4 * i + 1]);
        var suppressed = new bool[n];
        var keep = new List<int>();
        for (int a = 0; a < n; a++)
        {
            int i = order[a];
            if (suppressed[i]) continue;
            keep.Add(i);
            for (int b = a + 1; b < n; b++)
            {
                int j = order[b];
                if (suppressed[j]) continue;
                float xx1 = Math.Max(boxes[4 * i], boxes[4 * j]), yy1 = Math.Max(boxes[4 * i + 1], boxes[4 * j + 1]);
                float xx2 = Math.Min(boxes[4 * i + 2], boxes[4 * j + 2]), yy2 = Math.Min(boxes[4 * i + 3], boxes[4 * j + 3]);
                float w = Math.Max(0f, xx2 - xx1), h = Math.Max(0f, yy2 - yy1);
                float inter = w * h;
                float ovr = inter / (area[i] + area[j] - inter);
                if ((double)ovr > thr) suppressed[j] = true;
            }
        }
        return keep.ToArray();
    }

    /// <summary>torchvision's _batched_nms_vanilla with a stable final sort.</summary>
    public static int[] BatchedNms(float[] boxes, float[] scores, int[] idxs, double thr)
    {
        var keepMask = new bool[scores.Length];
        foreach (int c in idxs.Distinct())
        {
            int[] cur = Enumerable.Range(0, idxs.Length).Where(i => idxs[i] == c).ToArray();
            float[] b = cur.SelectMany(i => boxes.Skip(4 * i).Take(4)).ToArray();
            float[] s = cur.Select(i => scores[i]).ToArray();
            foreach (int k in Nms(b, s, thr)) keepMask[cur[k]] = true;
        }
        int[] kept = Enumerable.Range(0, scores.Length).Where(i => keepMask[i]).ToArray();
        return kept.OrderBy(i => float.IsNaN(scores[i]) ? 0 : 1).ThenByDescending(i => float.IsNaN(scores[i]) ? 0 : scores[i]).ToArray();
    }
}
