namespace Nanoq.Detection.Tests;

/// <summary>A literal transcription of torchvision's Matcher (torch.max semantics spelled out), for checking.</summary>
internal static class NaiveMatcher
{
    public static int[] Match(float[] q, int m, int n, float high, float low, bool allowLowQuality)
    {
        var matches = new int[n];
        var vals = new float[n];
        for (int j = 0; j < n; j++)
        {
            // torch CPU max(dim): if (!(v <= max)) { max = v; idx = i; if (isnan(v)) break; }
            float best = q[j];
            int idx = 0;
            for (int i = 0; i < m; i++)
            {
                float v = q[i * n + j];
                if (!(v <= best))
                {
                    best = v;
                    idx = i;
                    if (float.IsNaN(v)) break;
                }
            }
            vals[j] = best;
            matches[j] = idx;
        }
        var all = (int[])matches.Clone();
        for (int j = 0; j < n; j++)
        {
            if (vals[j] < low) matches[j] = -1;
            if (vals[j] >= low && vals[j] < high) matches[j] = -2;
        }
        if (allowLowQuality)
        {
            for (int i = 0; i < m; i++)
            {
                float h = float.NegativeInfinity;
                bool nan = false;
                for (int j = 0; j < n; j++)
                {
                    float v = q[i * n + j];
                    if (float.IsNaN(v)) nan = true;
                    else h = Math.Max(h, v);
                }
                if (nan) continue;
                for (int j = 0; j < n; j++)
                    if (q[i * n + j] == h) matches[j] = all[j];
            }
        }
        return matches;
    }
}
