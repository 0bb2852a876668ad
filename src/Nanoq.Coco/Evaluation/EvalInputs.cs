namespace Nanoq.Coco.Evaluation;

/// <summary>
/// Ground truths and detections regrouped the way pycocotools' _prepare and evaluateImg see them, as flat
/// arrays (structure of arrays) for speed:
/// <list type="bullet">
/// <item>images and categories are sorted by id (pycocotools sorts both);</item>
/// <item>ground truths are grouped by category, then image, and keep file order within a group;</item>
/// <item>detections are grouped by category, then image, then sorted by score descending with ties in results-list
///   order (numpy's stable mergesort of −score), and cut to maxDets[-1] per group.</item>
/// </list>
/// So the detections of one category, in array order, are exactly the concatenation pycocotools' accumulate builds.
/// </summary>
internal sealed class EvalInputs
{
    public long[] ImageIds { get; }
    public long[] CategoryIds { get; }

    public CocoBox[] GtBox { get; }
    public double[] GtArea { get; }
    public bool[] GtCrowd { get; }
    public int[] GtImage { get; }
    /// <summary>Ground truths of category k are positions [GtCategoryStart[k], GtCategoryStart[k+1]).</summary>
    public int[] GtCategoryStart { get; }

    public CocoBox[] DtBox { get; }
    public double[] DtScore { get; }
    public int[] DtImage { get; }
    /// <summary>Rank of the detection within its image×category group after the score sort (0 = best).</summary>
    public int[] DtRank { get; }
    /// <summary>Detections of category k are positions [DtCategoryStart[k], DtCategoryStart[k+1]).</summary>
    public int[] DtCategoryStart { get; }

    public EvalInputs(CocoDataset gt, IReadOnlyList<CocoResult> dts, int maxDetsPerGroup)
    {
        ImageIds = gt.Images.Select(im => im.Id).Order().ToArray();
        CategoryIds = gt.Categories.Select(c => c.Id).Order().ToArray();
        var imageIndex = Index(ImageIds);
        var categoryIndex = Index(CategoryIds);
        long numImages = ImageIds.Length;
        int numCategories = CategoryIds.Length;

        // Ground truths: sort by (category, image, file position).
        var anns = gt.Annotations;
        var gtKeys = new GroupKey[anns.Count];
        for (int j = 0; j < anns.Count; j++)
            gtKeys[j] = new GroupKey(categoryIndex[anns[j].CategoryId] * numImages + imageIndex[anns[j].ImageId], 0, j);
        gtKeys.AsSpan().Sort(new GroupKeyComparer());
        GtBox = new CocoBox[anns.Count];
        GtArea = new double[anns.Count];
        GtCrowd = new bool[anns.Count];
        GtImage = new int[anns.Count];
        GtCategoryStart = new int[numCategories + 1];
        for (int p = 0; p < gtKeys.Length; p++)
        {
            var a = anns[gtKeys[p].Index];
            GtBox[p] = a.Bbox;
            GtArea[p] = a.Area;
            GtCrowd[p] = a.IsCrowd;
            GtImage[p] = (int)(gtKeys[p].Group % numImages);
            GtCategoryStart[(int)(gtKeys[p].Group / numImages) + 1]++;
        }
        for (int k = 0; k < numCategories; k++) GtCategoryStart[k + 1] += GtCategoryStart[k];

        // Detections: sort by (category, image, score descending, results-list position), then keep the first
        // maxDetsPerGroup of each group.
        var dtKeys = new GroupKey[dts.Count];
        for (int j = 0; j < dts.Count; j++)
            dtKeys[j] = new GroupKey(categoryIndex[dts[j].CategoryId] * numImages + imageIndex[dts[j].ImageId], dts[j].Score, j);
        dtKeys.AsSpan().Sort(new GroupKeyComparer());
        int kept = 0;
        var ranks = new int[dtKeys.Length];
        long previousGroup = -1;
        for (int p = 0, rank = 0; p < dtKeys.Length; p++)
        {
            rank = dtKeys[p].Group == previousGroup ? rank + 1 : 0;
            previousGroup = dtKeys[p].Group;
            if (rank >= maxDetsPerGroup) continue;
            ranks[kept] = rank;
            dtKeys[kept++] = dtKeys[p];
        }
        DtBox = new CocoBox[kept];
        DtScore = new double[kept];
        DtImage = new int[kept];
        DtRank = new int[kept];
        DtCategoryStart = new int[numCategories + 1];
        for (int p = 0; p < kept; p++)
        {
            var r = dts[dtKeys[p].Index];
            DtBox[p] = r.Bbox;
            DtScore[p] = r.Score;
            DtRank[p] = ranks[p];
            DtImage[p] = (int)(dtKeys[p].Group % numImages);
            DtCategoryStart[(int)(dtKeys[p].Group / numImages) + 1]++;
        }
        for (int k = 0; k < numCategories; k++) DtCategoryStart[k + 1] += DtCategoryStart[k];
    }

    private static Dictionary<long, int> Index(long[] ids)
    {
        var d = new Dictionary<long, int>(ids.Length);
        for (int i = 0; i < ids.Length; i++) d[ids[i]] = i;
        return d;
    }

    /// <summary>Sort key: group (category·numImages + image) ascending, score descending, input position ascending.</summary>
    private readonly record struct GroupKey(long Group, double Score, int Index);

    private readonly struct GroupKeyComparer : IComparer<GroupKey>
    {
        public int Compare(GroupKey x, GroupKey y)
        {
            if (x.Group != y.Group) return x.Group < y.Group ? -1 : 1;
            // Descending score; equal scores (0.0 and -0.0 included) keep input order, like a stable sort of -score.
            if (x.Score != y.Score) return x.Score > y.Score ? -1 : 1;
            return x.Index.CompareTo(y.Index);
        }
    }
}
