namespace Nanoq.Coco.Evaluation;

/// <summary>
/// pycocotools' evaluateImg for one image × category, for every area range and IoU threshold at once.
/// <para>
/// Per area range: a ground truth is ignored if it is a crowd or its <c>area</c> is outside the range; ground truths
/// are visited non-ignored first (stable). Per threshold t, each detection in score order takes the best-IoU
/// ground truth with IoU ≥ t that is still free (crowds never get used up), but once it holds a non-ignored match it
/// stops at the first ignored ground truth: a real object beats a crowd or out-of-range one. A detection matched to
/// an ignored ground truth is ignored; so is an unmatched detection whose own area (w×h) is outside the range.
/// </para>
/// Output: for each detection position p and area range a, bit t of <c>Matched[a][p]</c> / <c>Ignored[a][p]</c>.
/// One instance per thread: it owns scratch buffers.
/// </summary>
internal sealed class ImageMatcher(CocoEvalParams parameters)
{
    private readonly CocoEvalParams _p = parameters;
    private double[] _iou = new double[256];
    private int[] _gtOrder = new int[16];
    private bool[] _gtIgnore = new bool[16];
    private bool[] _gtTaken = new bool[16];

    /// <summary>
    /// Matches detections [ds, de) against ground truths [gs, ge) of one image × category;
    /// returns nothing, writes the masks and adds each area range's non-ignored ground-truth count to <paramref name="npig"/>.
    /// </summary>
    public void Match(EvalInputs x, int gs, int ge, int ds, int de, uint[][] matched, uint[][] ignored, int[] npig)
    {
        int numGt = ge - gs, numDt = de - ds, numT = _p.IouThresholds.Count;
        uint allThresholds = numT == 32 ? uint.MaxValue : (1u << numT) - 1;
        EnsureCapacity(numGt, numDt);

        // IoU of detection d (score order) with ground truth g (file order), as pycocotools' computeIoU.
        for (int d = 0; d < numDt; d++)
            for (int g = 0; g < numGt; g++)
                _iou[d * numGt + g] = BoxIou.Compute(x.DtBox[ds + d], x.GtBox[gs + g], x.GtCrowd[gs + g]);

        for (int a = 0; a < _p.AreaRanges.Count; a++)
        {
            var range = _p.AreaRanges[a];
            var m = matched[a];
            var ig = ignored[a];

            // Non-ignored ground truths first, each part in file order (numpy's stable argsort of the ignore flags).
            int n = 0;
            for (int g = 0; g < numGt; g++)
            {
                _gtIgnore[g] = x.GtCrowd[gs + g] || !range.Contains(x.GtArea[gs + g]);
                if (!_gtIgnore[g]) _gtOrder[n++] = g;
            }
            npig[a] += n;
            for (int g = 0; g < numGt; g++)
                if (_gtIgnore[g]) _gtOrder[n++] = g;

            for (int d = 0; d < numDt; d++) { m[ds + d] = 0; ig[ds + d] = 0; }
            if (numGt > 0)
            {
                for (int t = 0; t < numT; t++)
                    MatchAtThreshold(x, gs, ds, numGt, numDt, t, m, ig);
            }

            // Unmatched detections outside the area range do not count as false positives.
            for (int d = 0; d < numDt; d++)
                if (!range.Contains(x.DtBox[ds + d].Area))
                    ig[ds + d] |= ~m[ds + d] & allThresholds;
        }
    }

    private void MatchAtThreshold(EvalInputs x, int gs, int ds, int numGt, int numDt, int t, uint[] m, uint[] ig)
    {
        uint bit = 1u << t;
        Array.Clear(_gtTaken, 0, numGt);
        for (int d = 0; d < numDt; d++)
        {
            // pycocotools: iou = min([t, 1-1e-10]); a match needs iou >= the best so far.
            double best = Math.Min(_p.IouThresholds[t], 1 - 1e-10);
            int match = -1;
            int row = d * numGt;
            for (int j = 0; j < numGt; j++)
            {
                int g = _gtOrder[j];
                if (_gtTaken[g] && !x.GtCrowd[gs + g]) continue;
                // Holding a real (non-ignored) match, stop when the ignored ground truths begin.
                if (match > -1 && !_gtIgnore[match] && _gtIgnore[g]) break;
                double iou = _iou[row + g];
                if (iou < best) continue;
                best = iou;
                match = g;
            }
            if (match == -1) continue;
            // pycocotools records the matched ground truth's id and later reads 0 as "unmatched", so a ground truth
            // with id 0 would silently count as a miss there; we keep an explicit flag, which agrees whenever ids are
            // positive (as in every COCO file).
            m[ds + d] |= bit;
            if (_gtIgnore[match]) ig[ds + d] |= bit;
            _gtTaken[match] = true;
        }
    }

    private void EnsureCapacity(int numGt, int numDt)
    {
        if (_iou.Length < numGt * numDt) _iou = new double[Math.Max(numGt * numDt, _iou.Length * 2)];
        if (_gtOrder.Length < numGt)
        {
            int n = Math.Max(numGt, _gtOrder.Length * 2);
            _gtOrder = new int[n];
            _gtIgnore = new bool[n];
            _gtTaken = new bool[n];
        }
    }
}
