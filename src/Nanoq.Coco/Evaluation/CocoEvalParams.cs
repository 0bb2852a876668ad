namespace Nanoq.Coco.Evaluation;

/// <summary>
/// pycocotools' default bbox parameters: IoU thresholds .50:.05:.95, 101 recall points 0:.01:1,
/// maxDets 1/10/100, area ranges all/small/medium/large. The thresholds are computed as numpy's
/// <c>linspace</c> computes them (<c>start + i·step</c>, last = stop), because the recall points are compared
/// with recalls by exact <c>searchsorted</c>: 7·0.01 is 0.07000000000000001, not 0.07, and a recall of exactly
/// 7/100 must fall below it as it does in the reference.
/// </summary>
public sealed class CocoEvalParams
{
    public static CocoEvalParams Default { get; } = new();

    /// <summary>np.linspace(.5, 0.95, 10).</summary>
    public IReadOnlyList<double> IouThresholds { get; }

    /// <summary>np.linspace(.0, 1.00, 101).</summary>
    public IReadOnlyList<double> RecallThresholds { get; }

    /// <summary>[1, 10, 100]; the last is the per image×category cut.</summary>
    public IReadOnlyList<int> MaxDets { get; }

    /// <summary>all [0, 1e10], small [0, 32²], medium [32², 96²], large [96², 1e10].</summary>
    public IReadOnlyList<AreaRange> AreaRanges { get; }

    private CocoEvalParams()
    {
        IouThresholds = Linspace(0.5, 0.95, (int)Math.Round((0.95 - 0.5) / 0.05) + 1);
        RecallThresholds = Linspace(0.0, 1.0, (int)Math.Round((1.0 - 0.0) / 0.01) + 1);
        MaxDets = [1, 10, 100];
        AreaRanges =
        [
            new("all", 0, 1e5 * 1e5),
            new("small", 0, 32 * 32),
            new("medium", 32 * 32, 96 * 96),
            new("large", 96 * 96, 1e5 * 1e5),
        ];
    }

    /// <summary>numpy.linspace(start, stop, num, endpoint=True) bit for bit: y[i] = i·step + start, y[num−1] = stop.</summary>
    internal static double[] Linspace(double start, double stop, int num)
    {
        var y = new double[num];
        double step = (stop - start) / (num - 1);
        for (int i = 0; i < num; i++) y[i] = i * step + start;
        if (num > 1) y[num - 1] = stop;
        return y;
    }

    /// <summary>Index of the threshold exactly equal to <paramref name="iou"/> (pycocotools' np.where(iouThr == iouThrs)), or −1.</summary>
    internal int IouIndex(double iou)
    {
        for (int i = 0; i < IouThresholds.Count; i++)
            if (IouThresholds[i] == iou) return i;
        return -1;
    }

    internal int AreaIndex(string label)
    {
        for (int i = 0; i < AreaRanges.Count; i++)
            if (AreaRanges[i].Label == label) return i;
        return -1;
    }
}
