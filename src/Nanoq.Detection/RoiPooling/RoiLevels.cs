namespace Nanoq.Detection;

/// <summary>
/// RoIs of a batch split by pyramid level, the bookkeeping MultiScaleRoIAlign does before pooling — shared by the float
/// path (<see cref="MultiScaleRoiAlign.Forward"/>) and an integer path, which pools each level's RoIs with its own plan
/// and scatters the results back the same way.
/// <list type="bullet">
/// <item><see cref="Rois"/>: [K, 5] (image index, x1, y1, x2, y2), images' boxes concatenated in order
/// (torchvision's <c>_convert_to_roi_format</c>).</item>
/// <item><see cref="Levels"/>[k]: the level index of RoI k (0 = the first map).</item>
/// <item><see cref="PerLevel"/>[l]: the RoIs of level l, ascending (torch.where(levels == l)); pooled output row j of
/// level l is row PerLevel[l][j] of the result.</item>
/// </list>
/// </summary>
public sealed record RoiLevels(float[] Rois, int[] Levels, int[][] PerLevel, float[] Scales)
{
    public int Count => Levels.Length;

    /// <summary>The [K_l, 5] RoIs of level <paramref name="level"/> (a copy).</summary>
    public float[] RoisOf(int level)
    {
        var idx = PerLevel[level];
        var r = new float[5 * idx.Length];
        for (int j = 0; j < idx.Length; j++) Array.Copy(Rois, 5 * idx[j], r, 5 * j, 5);
        return r;
    }

    /// <summary>
    /// The inverse of concatenating the levels' outputs in level order: result row k = concatenated row Inverse[k].
    /// </summary>
    public int[] InversePermutation()
    {
        var inv = new int[Count];
        int j = 0;
        foreach (var idx in PerLevel)
            foreach (int k in idx) inv[k] = j++;
        return inv;
    }
}
