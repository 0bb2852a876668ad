namespace Nanoq.Kernels.Integer;

/// <summary>
/// The integer form of one RoIAlign call: for every output bin (RoI k, ph, pw) a short list of taps — a pixel of the
/// RoI's input plane and a non-negative fixed-point weight — made offline from float RoI boxes by
/// <see cref="RoiAlignPlanner"/> (box geometry is float, like postprocessing; DESIGN.md §5 "Edges"), and run on codes
/// by <see cref="IntRoiAlign"/>. Integers only.
///
/// <para><b>Format.</b> Weights are unsigned Q<see cref="FractionBits"/> (Q22: 1.0 = 2^22), the bin's bilinear
/// weights averaged over its sampling points and merged per pixel. Per bin, Σ weights ≤ 2^22; the remainder up to
/// 2^22 is the mass of sampling points that fell off the map, which torchvision counts as real 0 — the zero point
/// z in code space, so it needs no tap (its term (z − z)·W vanishes). Q22 keeps Σ W·(q − z) inside int32 for codes
/// of up to 9 bits (511 · 2^22 &lt; 2^31).</para>
///
/// <para>Layout (CSR): bin j = (k·PH + ph)·PW + pw owns taps [TapStart[j], TapStart[j + 1]); TapIndex is the flat
/// index iy·W + ix inside the (batch, channel) plane; Batch[k] is RoI k's image. The plan is shared by all channels.</para>
/// </summary>
public sealed class IntRoiAlignPlan : IDisposable
{
    /// <summary>Fraction bits of the weights: Q22.</summary>
    public const int FractionBits = 22;

    /// <summary>1.0 in the weights' format.</summary>
    public const int One = 1 << FractionBits;

    private int[] _batch, _tapStart, _tapIndex, _tapWeight;
    private readonly bool _pooled;
    private bool _disposed;

    /// <summary>A plan from its arrays (exact lengths), checked: offsets, pixel indices, weights ≥ 0, Σ per bin ≤ 2^22.</summary>
    public IntRoiAlignPlan(int numRois, int pooledH, int pooledW, int height, int width,
                           int[] batch, int[] tapStart, int[] tapIndex, int[] tapWeight)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(tapStart);
        ArgumentNullException.ThrowIfNull(tapIndex);
        ArgumentNullException.ThrowIfNull(tapWeight);
        if (numRois < 0 || pooledH <= 0 || pooledW <= 0 || height <= 0 || width <= 0)
            throw new ArgumentException($"IntRoiAlignPlan: {numRois} RoIs, pooled {pooledH}x{pooledW}, map {height}x{width}: sizes must be positive.");
        int bins = numRois * pooledH * pooledW;
        if (batch.Length != numRois) throw new ArgumentException($"IntRoiAlignPlan: {numRois} RoIs need {numRois} batch indices, got {batch.Length}.");
        if (tapStart.Length != bins + 1 || tapStart[0] != 0)
            throw new ArgumentException($"IntRoiAlignPlan: {bins} bins need {bins + 1} tap offsets starting at 0.");
        if (tapIndex.Length != tapWeight.Length || tapStart[bins] != tapIndex.Length)
            throw new ArgumentException($"IntRoiAlignPlan: {tapIndex.Length} tap indices, {tapWeight.Length} weights, offsets end at {tapStart[bins]}.");
        int plane = height * width;
        for (int j = 0; j < bins; j++)
        {
            if (tapStart[j + 1] < tapStart[j]) throw new ArgumentException($"IntRoiAlignPlan: tap offsets decrease at bin {j}.");
            long sum = 0;
            for (int t = tapStart[j]; t < tapStart[j + 1]; t++)
            {
                if ((uint)tapIndex[t] >= (uint)plane) throw new ArgumentException($"IntRoiAlignPlan: tap {t} reads pixel {tapIndex[t]} of a {height}x{width} plane.");
                if (tapWeight[t] < 0) throw new ArgumentException($"IntRoiAlignPlan: tap {t} has a negative weight {tapWeight[t]}.");
                sum += tapWeight[t];
            }
            if (sum > One) throw new ArgumentException($"IntRoiAlignPlan: the weights of bin {j} sum to {sum} > 2^{FractionBits}: not a convex combination.");
        }
        NumRois = numRois; PooledH = pooledH; PooledW = pooledW; Height = height; Width = width; Taps = tapIndex.Length;
        _batch = batch; _tapStart = tapStart; _tapIndex = tapIndex; _tapWeight = tapWeight;
    }

    /// <summary>
    /// <see cref="RoiAlignPlanner"/>'s plans: arrays rented from the shared array pool (at least as long as needed; a
    /// batch's plan is megabytes, which fresh would churn the large-object heap every forward), valid by construction
    /// (the planner's tests check the invariants the public constructor checks), returned by <see cref="Dispose"/>.
    /// </summary>
    internal IntRoiAlignPlan(int numRois, int pooledH, int pooledW, int height, int width, int taps,
                             int[] batch, int[] tapStart, int[] tapIndex, int[] tapWeight, bool pooled)
    {
        NumRois = numRois; PooledH = pooledH; PooledW = pooledW; Height = height; Width = width; Taps = taps;
        _batch = batch; _tapStart = tapStart; _tapIndex = tapIndex; _tapWeight = tapWeight; _pooled = pooled;
    }

    public int NumRois { get; }
    public int PooledH { get; }
    public int PooledW { get; }
    public int Height { get; }
    public int Width { get; }

    /// <summary>Number of taps over all bins.</summary>
    public int Taps { get; }

    /// <summary>Batch[k]: RoI k's image.</summary>
    public ReadOnlySpan<int> Batch => Live(_batch, NumRois);

    /// <summary>Bin j's taps are [TapStart[j], TapStart[j + 1]).</summary>
    public ReadOnlySpan<int> TapStart => Live(_tapStart, Bins + 1);

    public ReadOnlySpan<int> TapIndex => Live(_tapIndex, Taps);
    public ReadOnlySpan<int> TapWeight => Live(_tapWeight, Taps);

    /// <summary>Number of output bins, K · PH · PW.</summary>
    public int Bins => NumRois * PooledH * PooledW;

    /// <summary>Returns a planner's pooled arrays (nothing for a plan made from arrays); the plan is unusable afterwards.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_pooled)
            foreach (var a in new[] { _batch, _tapStart, _tapIndex, _tapWeight }) System.Buffers.ArrayPool<int>.Shared.Return(a);
        _batch = _tapStart = _tapIndex = _tapWeight = [];
    }

    private ReadOnlySpan<int> Live(int[] a, int length) =>
        _disposed ? throw new ObjectDisposedException(nameof(IntRoiAlignPlan)) : a.AsSpan(0, length);
}
