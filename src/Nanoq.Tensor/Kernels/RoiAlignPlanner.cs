using System.Buffers;
using System.Runtime.CompilerServices;
using Nanoq.Kernels.Integer;

namespace Nanoq.Kernels;

/// <summary>
/// The offline (float) half of the integer RoIAlign: turns float RoI boxes into an <see cref="IntRoiAlignPlan"/>
/// (pixel indices + Q22 weights) that <see cref="IntRoiAlign"/> runs on codes with integers only — gemmlowp's split
/// of offline and runtime work. RoI coordinates are box geometry computed in float like any postprocessing
/// (DESIGN.md §5, "Edges"), so the sampling geometry is float here and never in the runtime.
///
/// <para><b>Weights.</b> For every bin, the float kernel's sampling points (<see cref="RoiAlignSampling"/>, the same
/// float32 values as <see cref="RoiAlign.Forward"/>) give each input pixel p the ideal weight
/// a_p = Σ_{taps on p} w / count (each term w / count in float32, summed in double in the order of the sampling points);
/// off-map points give nothing (their mass 1 − Σ a_p is real 0, code z). Quantization to Q22 keeps the combination
/// convex: W_p = ⌊a_p·2^22⌋, then the largest-remainder rule (ties to the lower pixel index) adds single units until
/// Σ W_p = min(2^22, round(Σ a_p·2^22)), Σ over the bin's pixels in ascending order — so a bin whose points all lie on
/// the map sums to exactly 2^22, and no bin exceeds it (float32 bilinear weights can sum to 1 + ulp). Each W_p is
/// within one unit (2^−22) of a_p. Taps of weight 0 are dropped.</para>
///
/// <para><b>Cost.</b> A bin has few taps (4 per sampling point: 16 at torchvision's sampling ratio 2). Its pixels and
/// ideal weights come separably (<see cref="RoiAlignTaps"/>: each axis's lines sorted once per pooled row or column,
/// a pixel's terms as products of two short lists, in sampling order), the largest-remainder units by counting ranks,
/// all in reusable scratch with no allocation; RoIs are planned in parallel — contiguous runs of RoIs a task, stitched
/// in RoI order, so the plan does not depend on the split. The plan's arrays are rented from the shared pool (a
/// batch's plan is megabytes); dispose it to return them.</para>
/// </summary>
public static class RoiAlignPlanner
{
    /// <summary>
    /// The plan for <paramref name="rois"/> ([K, 5]: batch index, x1, y1, x2, y2) on n maps of h × w, with
    /// <see cref="RoiAlign.Forward"/>'s parameters.
    /// </summary>
    public static IntRoiAlignPlan Build(ReadOnlySpan<float> rois, int n, int h, int w, int pooledH, int pooledW,
        float spatialScale, int samplingRatio, bool aligned) =>
        Build(rois, n, h, w, pooledH, pooledW, spatialScale, samplingRatio, aligned, lanes: Simd.IsVector);

    /// <summary>
    /// As the public <see cref="Build(ReadOnlySpan{float}, int, int, int, int, int, float, int, bool)"/>, choosing whether
    /// grids of at most 2 × 2 points take <see cref="RoiAlignTaps"/>' 16-lane path (<paramref name="lanes"/>, AVX2 or
    /// AVX-512: the form of <see cref="Simd.Level"/>) or the separable one that serves every grid — the same plans; tests run both.
    /// </summary>
    internal static IntRoiAlignPlan Build(ReadOnlySpan<float> rois, int n, int h, int w, int pooledH, int pooledW,
        float spatialScale, int samplingRatio, bool aligned, bool lanes)
    {
        if (lanes && !Simd.IsVector) throw new PlatformNotSupportedException("RoiAlignPlanner: the 16-lane path needs AVX2 or AVX-512 (Simd.Level).");
        RoiAlign.CheckSizes(0, rois.Length, 0, 0, 0, h, w, pooledH, pooledW, "RoiAlignPlanner.Build");
        int k = rois.Length / 5, bins = pooledH * pooledW;
        var pool = ArrayPool<int>.Shared;
        var geometry = ArrayPool<RoiAlignSampling.Roi>.Shared.Rent(k);
        int[] batch = pool.Rent(k), tapStart = pool.Rent(k * bins + 1);
        int[]? tapIndex = null, tapWeight = null;
        var task = new PlanTask
        {
            Geometry = geometry, Rois = k, Parts = new RoiAlignTaps[Math.Max(1, Math.Min(k, 4 * ParallelRunner.MaxDegreeOfParallelism))],
            TapStart = tapStart, H = h, W = w, PooledH = pooledH, PooledW = pooledW, Lanes = lanes,
        };
        try
        {
            for (int r = 0; r < k; r++)   // serially first: a bad RoI fails here, in the caller's thread
            {
                geometry[r] = RoiAlignSampling.Geometry(rois.Slice(5 * r, 5), n, pooledH, pooledW, spatialScale, samplingRatio, aligned);
                batch[r] = geometry[r].Batch;
            }
            ParallelRunner.Run(task.Parts.Length, ref task);
            // The parts wrote each bin's tap count to TapStart[j + 1]: offsets by a running sum.
            tapStart[0] = 0;
            for (int j = 0; j < k * bins; j++) tapStart[j + 1] += tapStart[j];
            int total = tapStart[k * bins];
            tapIndex = pool.Rent(total);
            tapWeight = pool.Rent(total);
            int at = 0;
            foreach (var part in task.Parts)
            {
                part.Index.AsSpan(0, part.Count).CopyTo(tapIndex.AsSpan(at));
                part.Weight.AsSpan(0, part.Count).CopyTo(tapWeight.AsSpan(at));
                at += part.Count;
            }
            return new IntRoiAlignPlan(k, pooledH, pooledW, h, w, total, batch, tapStart, tapIndex, tapWeight, pooled: true);
        }
        catch
        {
            foreach (var a in new[] { batch, tapStart, tapIndex, tapWeight }) if (a is not null) pool.Return(a);
            throw;
        }
        finally
        {
            foreach (var part in task.Parts) part?.Dispose();
            ArrayPool<RoiAlignSampling.Roi>.Shared.Return(geometry);
        }
    }

    /// <summary>Part <c>task</c> of the RoIs: a contiguous run, planned into its own <see cref="RoiAlignTaps"/>.</summary>
    private struct PlanTask : IParallelBody
    {
        public RoiAlignSampling.Roi[] Geometry;
        public int Rois;
        public RoiAlignTaps[] Parts;
        public int[] TapStart;
        public int H, W, PooledH, PooledW;
        public bool Lanes;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Invoke(int task)
        {
            int k = Rois, parts = Parts.Length, bins = PooledH * PooledW;
            int first = (int)((long)k * task / parts), end = (int)((long)k * (task + 1) / parts);
            var taps = Parts[task] = new RoiAlignTaps(Lanes, Math.Max(4096, (end - first) * bins * RoiAlignTaps.MaxSmallGridTaps));
            for (int r = first; r < end; r++)
                taps.AddRoi(Geometry[r], H, W, PooledH, PooledW, TapStart.AsSpan(r * bins + 1, bins));
        }
    }
}
