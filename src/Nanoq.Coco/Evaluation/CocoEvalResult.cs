using System.Globalization;
using System.Text;

namespace Nanoq.Coco.Evaluation;

/// <summary>
/// The outcome of <see cref="CocoEvaluator.Evaluate"/>: pycocotools' <c>eval['precision']</c> [T, R, K, A, M] and
/// <c>eval['recall']</c> [T, K, A, M] (−1 where a category has no ground truth in a range), the 12 summary
/// numbers, and the same numbers per category.
/// </summary>
public sealed class CocoEvalResult
{
    private readonly double[] _precision;
    private readonly double[] _recall;
    private readonly int _numK;

    public CocoEvalParams Params { get; }

    /// <summary>Category ids in evaluation order (sorted), the K axis.</summary>
    public IReadOnlyList<long> CategoryIds { get; }

    /// <summary>The 12 numbers of summarize().</summary>
    public CocoStats Stats { get; }

    /// <summary>The 12 numbers per category, in category-id order.</summary>
    public IReadOnlyList<CategoryEvalResult> PerCategory { get; }

    internal CocoEvalResult(CocoEvalParams p, CocoDataset gt, EvalInputs x, double[] precision, double[] recall)
    {
        Params = p;
        _precision = precision;
        _recall = recall;
        _numK = x.CategoryIds.Length;
        CategoryIds = x.CategoryIds;
        Stats = Summarize(null);
        var perCategory = new CategoryEvalResult[_numK];
        for (int k = 0; k < _numK; k++)
        {
            int gtCount = 0;
            for (int i = x.GtCategoryStart[k]; i < x.GtCategoryStart[k + 1]; i++)
                if (!x.GtCrowd[i]) gtCount++;
            perCategory[k] = new CategoryEvalResult(x.CategoryIds[k], gt.Category(x.CategoryIds[k]).Name, gtCount,
                x.DtCategoryStart[k + 1] - x.DtCategoryStart[k], Summarize(k));
        }
        PerCategory = perCategory;
    }

    /// <summary>precision[t, r, k, a, m], −1 where category k has no ground truth in area range a.</summary>
    public double Precision(int t, int r, int k, int a, int m) =>
        _precision[(((t * Params.RecallThresholds.Count + r) * _numK + k) * Params.AreaRanges.Count + a) * Params.MaxDets.Count + m];

    /// <summary>recall[t, k, a, m], −1 where category k has no ground truth in area range a.</summary>
    public double Recall(int t, int k, int a, int m) =>
        _recall[((t * _numK + k) * Params.AreaRanges.Count + a) * Params.MaxDets.Count + m];

    /// <summary>The 12 lines pycocotools' summarize() prints, each ending in a newline.</summary>
    public string Format()
    {
        var sb = new StringBuilder();
        var s = Stats.ToArray();
        int m0 = Params.MaxDets[0], m1 = Params.MaxDets[1], m2 = Params.MaxDets[2];
        Line(sb, true, null, "all", m2, s[0]);
        Line(sb, true, 0.5, "all", m2, s[1]);
        Line(sb, true, 0.75, "all", m2, s[2]);
        Line(sb, true, null, "small", m2, s[3]);
        Line(sb, true, null, "medium", m2, s[4]);
        Line(sb, true, null, "large", m2, s[5]);
        Line(sb, false, null, "all", m0, s[6]);
        Line(sb, false, null, "all", m1, s[7]);
        Line(sb, false, null, "all", m2, s[8]);
        Line(sb, false, null, "small", m2, s[9]);
        Line(sb, false, null, "medium", m2, s[10]);
        Line(sb, false, null, "large", m2, s[11]);
        return sb.ToString();
    }

    /// <summary>A table of AP, AP50, AP75, APs, APm, APl and AR100 per category (values in %, "-" for −1).</summary>
    public string FormatPerCategory()
    {
        int nameWidth = Math.Max(8, PerCategory.Select(c => c.Name.Length).DefaultIfEmpty(0).Max());
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture,
            $"{"id",6}  {"category".PadRight(nameWidth)}  {"gt",6}  {"dt",7}  {"AP",6}  {"AP50",6}  {"AP75",6}  {"APs",6}  {"APm",6}  {"APl",6}  {"AR100",6}\n");
        foreach (var c in PerCategory)
        {
            var s = c.Stats;
            sb.Append(CultureInfo.InvariantCulture,
                $"{c.CategoryId,6}  {c.Name.PadRight(nameWidth)}  {c.GroundTruths,6}  {c.Detections,7}  {Pct(s.AP)}  {Pct(s.AP50)}  {Pct(s.AP75)}  {Pct(s.APs)}  {Pct(s.APm)}  {Pct(s.APl)}  {Pct(s.AR100)}\n");
        }
        return sb.ToString();
    }

    /// <summary>One json object with keys AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl.</summary>
    public string ToJson() => Stats.ToJson();

    private static string Pct(double v) =>
        v < 0 ? "     -" : (100 * v).ToString("0.00", CultureInfo.InvariantCulture).PadLeft(6);

    private CocoStats Summarize(int? k)
    {
        int m0 = Params.MaxDets[0], m1 = Params.MaxDets[1], m2 = Params.MaxDets[2];
        return new CocoStats(
            Mean(true, null, "all", m2, k), Mean(true, 0.5, "all", m2, k), Mean(true, 0.75, "all", m2, k),
            Mean(true, null, "small", m2, k), Mean(true, null, "medium", m2, k), Mean(true, null, "large", m2, k),
            Mean(false, null, "all", m0, k), Mean(false, null, "all", m1, k), Mean(false, null, "all", m2, k),
            Mean(false, null, "small", m2, k), Mean(false, null, "medium", m2, k), Mean(false, null, "large", m2, k));
    }

    /// <summary>
    /// pycocotools' _summarize: the mean of the entries > −1 of precision (ap) or recall, over the selected IoU
    /// thresholds (one, found by exact equality, or all), all recall points and all categories (or just k);
    /// −1 when there is none.
    /// </summary>
    private double Mean(bool ap, double? iouThr, string areaLabel, int maxDets, int? k)
    {
        int a = Params.AreaIndex(areaLabel);
        int m = -1;
        for (int i = 0; i < Params.MaxDets.Count; i++) if (Params.MaxDets[i] == maxDets) m = i;
        int t0 = 0, t1 = Params.IouThresholds.Count;
        if (iouThr is { } thr)
        {
            int t = Params.IouIndex(thr);
            if (t < 0) return -1;
            t0 = t;
            t1 = t + 1;
        }
        if (a < 0 || m < 0) return -1;
        int k0 = k ?? 0, k1 = k + 1 ?? _numK;
        double sum = 0;
        long n = 0;
        for (int t = t0; t < t1; t++)
            for (int kk = k0; kk < k1; kk++)
            {
                if (ap)
                {
                    for (int r = 0; r < Params.RecallThresholds.Count; r++)
                    {
                        double v = Precision(t, r, kk, a, m);
                        if (v > -1) { sum += v; n++; }
                    }
                }
                else
                {
                    double v = Recall(t, kk, a, m);
                    if (v > -1) { sum += v; n++; }
                }
            }
        return n == 0 ? -1 : sum / n;
    }

    private void Line(StringBuilder sb, bool ap, double? iouThr, string area, int maxDets, double value)
    {
        string title = ap ? "Average Precision" : "Average Recall";
        string type = ap ? "(AP)" : "(AR)";
        string iou = iouThr is { } t
            ? PyFormat.Fixed(t, 2)
            : $"{PyFormat.Fixed(Params.IouThresholds[0], 2)}:{PyFormat.Fixed(Params.IouThresholds[^1], 2)}";
        // pycocotools: ' {:<18} {} @[ IoU={:<9} | area={:>6s} | maxDets={:>3d} ] = {:0.3f}'
        sb.Append(' ').Append(title.PadRight(18)).Append(' ').Append(type)
          .Append(" @[ IoU=").Append(iou.PadRight(9))
          .Append(" | area=").Append(area.PadLeft(6))
          .Append(" | maxDets=").Append(maxDets.ToString(CultureInfo.InvariantCulture).PadLeft(3))
          .Append(" ] = ").Append(PyFormat.Fixed(value, 3)).Append('\n');
    }
}
