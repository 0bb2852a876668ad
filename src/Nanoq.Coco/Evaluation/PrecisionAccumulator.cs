namespace Nanoq.Coco.Evaluation;

/// <summary>
/// pycocotools' accumulate for one category: precision at the 101 recall points and final recall, for every
/// IoU threshold t, area range a and maxDets m.
/// <para>
/// The category's detections (first maxDets[m] of each image, images in id order) are sorted by score descending,
/// ties in that concatenation order (numpy's stable mergesort). Ignored detections keep their place in the running
/// sums without adding to them. rc = tp / npig, pr = tp / (tp + fp + ε) with ε = np.spacing(1);
/// pr is made non-increasing from the right, and precision at recall point r is pr at the first index where
/// rc ≥ r (searchsorted 'left'), 0 beyond the last recall reached. recall = rc at the end (0 with no detections).
/// A category with no non-ignored ground truth in a range keeps −1 there.
/// </para>
/// One instance per thread: it owns scratch buffers.
/// </summary>
internal sealed class PrecisionAccumulator(CocoEvalParams parameters, int numCategories)
{
    // np.spacing(1): the gap from 1.0 to the next double.
    private const double Eps = 2.220446049250313e-16;

    private readonly CocoEvalParams _p = parameters;
    private readonly int _k = numCategories;
    private int[] _order = new int[256];
    private int[] _selected = new int[256];
    private double[] _rc = new double[256];
    private double[] _pr = new double[256];

    /// <summary>Fills precision[t, r, k, a, m] and recall[t, k, a, m] (row-major, pycocotools' layout) for category k.</summary>
    public void Accumulate(EvalInputs x, int k, int[] npig, uint[][] matched, uint[][] ignored, double[] precision, double[] recall)
    {
        int start = x.DtCategoryStart[k], count = x.DtCategoryStart[k + 1] - start;
        if (_order.Length < count)
        {
            int n = Math.Max(count, _order.Length * 2);
            _order = new int[n]; _selected = new int[n]; _rc = new double[n]; _pr = new double[n];
        }
        for (int i = 0; i < count; i++) _order[i] = start + i;
        _order.AsSpan(0, count).Sort(new ScoreDescending(x.DtScore));

        int numT = _p.IouThresholds.Count, numR = _p.RecallThresholds.Count;
        int numA = _p.AreaRanges.Count, numM = _p.MaxDets.Count;
        for (int a = 0; a < numA; a++)
        {
            if (npig[a] == 0) continue;
            for (int m = 0; m < numM; m++)
            {
                int maxDet = _p.MaxDets[m];
                int nd = 0;
                for (int i = 0; i < count; i++)
                    if (x.DtRank[_order[i]] < maxDet) _selected[nd++] = _order[i];

                for (int t = 0; t < numT; t++)
                {
                    uint bit = 1u << t;
                    double tp = 0, fp = 0;
                    for (int j = 0; j < nd; j++)
                    {
                        int p = _selected[j];
                        if ((ignored[a][p] & bit) == 0)
                        {
                            if ((matched[a][p] & bit) != 0) tp++; else fp++;
                        }
                        _rc[j] = tp / npig[a];
                        _pr[j] = tp / (fp + tp + Eps);
                    }
                    recall[((t * _k + k) * numA + a) * numM + m] = nd > 0 ? _rc[nd - 1] : 0;

                    for (int j = nd - 1; j > 0; j--)
                        if (_pr[j] > _pr[j - 1]) _pr[j - 1] = _pr[j];

                    // rc is non-decreasing and so are the recall points: one forward sweep is searchsorted 'left'.
                    int idx = 0;
                    for (int r = 0; r < numR; r++)
                    {
                        double thr = _p.RecallThresholds[r];
                        while (idx < nd && _rc[idx] < thr) idx++;
                        precision[(((t * numR + r) * _k + k) * numA + a) * numM + m] = idx < nd ? _pr[idx] : 0;
                    }
                }
            }
        }
    }

    /// <summary>Score descending; equal scores keep array position (the concatenation order), i.e. a stable sort.</summary>
    private readonly struct ScoreDescending(double[] scores) : IComparer<int>
    {
        public int Compare(int x, int y)
        {
            double sx = scores[x], sy = scores[y];
            if (sx != sy) return sx > sy ? -1 : 1;
            return x.CompareTo(y);
        }
    }
}
