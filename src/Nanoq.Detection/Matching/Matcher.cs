using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Nanoq.Detection;

/// <summary>
/// Assigns each prediction (anchor) at most one ground-truth box: torchvision's <c>det_utils.Matcher</c> (0.14).
///
/// <para>Input: the [M, N] match-quality matrix q (M ground-truth rows, N predictions; typically
/// <c>Boxes.Iou(gt, anchors)</c>). For each prediction n, with v = maxₘ q[m, n] and g = its argmax (the first m
/// on ties, as torch's max(dim=0)):
/// <code>
///   v ≥ high          → g                      (foreground)
///   low ≤ v &lt; high    → BetweenThresholds (−2)  (ignored by the loss)
///   v &lt; low           → BelowLowThreshold (−1)  (background)
/// </code>
/// Thresholds are compared in float32, as torch compares a float tensor with a Python number. RetinaNet uses
/// high 0.5, low 0.4, low-quality matches allowed.</para>
///
/// <para><b>allow_low_quality_matches</b>: for every ground truth m, let bestₘ = maxₙ q[m, n]; every prediction n
/// with q[m, n] = bestₘ (ties included) gets back its original argmax g(n) — note: g(n), the best ground truth of
/// that prediction, not necessarily m. So every ground truth keeps at least one prediction even when no IoU
/// reaches high. Faithful quirk: a ground truth that overlaps no prediction has bestₘ = 0, so every prediction
/// with zero IoU to it is restored to its own argmax (ground truth 0 for those that overlap nothing at all);
/// torchvision does the same. A NaN bestₘ matches nothing.</para>
///
/// Cost O(M·N), vectorized over predictions; no allocation besides the result and pooled scratch.
/// </summary>
public sealed class Matcher
{
    /// <summary>torchvision's BELOW_LOW_THRESHOLD: background.</summary>
    public const int BelowLowThreshold = -1;

    /// <summary>torchvision's BETWEEN_THRESHOLDS: neither foreground nor background; ignored.</summary>
    public const int BetweenThresholds = -2;

    public Matcher(float highThreshold, float lowThreshold, bool allowLowQualityMatches = false)
    {
        if (!(lowThreshold <= highThreshold))
            throw new ArgumentException($"Matcher: low_threshold ({lowThreshold}) should be <= high_threshold ({highThreshold}).");
        HighThreshold = highThreshold;
        LowThreshold = lowThreshold;
        AllowLowQualityMatches = allowLowQualityMatches;
    }

    /// <summary>RetinaNet's matcher: foreground IoU ≥ 0.5, background &lt; 0.4, low-quality matches allowed.</summary>
    public static Matcher RetinaNet() => new(0.5f, 0.4f, allowLowQualityMatches: true);

    public float HighThreshold { get; }
    public float LowThreshold { get; }
    public bool AllowLowQualityMatches { get; }

    /// <summary>Matches for an [M, N] quality tensor: N entries, each a ground-truth index or −1/−2.</summary>
    public int[] Match(Tensor matchQualityMatrix)
    {
        if (matchQualityMatrix.Rank != 2)
            throw new ArgumentException($"Matcher: the match quality matrix must be [M, N], got {matchQualityMatrix.Shape}.");
        int m = matchQualityMatrix.Dim(0), n = matchQualityMatrix.Dim(1);
        var matches = new int[n];
        Match(matchQualityMatrix.Span, m, n, matches);
        return matches;
    }

    /// <summary>Matches for a row-major [M, N] quality matrix: N entries.</summary>
    public int[] Match(ReadOnlySpan<float> matchQualityMatrix, int numGt, int numPredictions)
    {
        var matches = new int[numPredictions];
        Match(matchQualityMatrix, numGt, numPredictions, matches);
        return matches;
    }

    /// <summary>
    /// Writes the N matches of a row-major [M, N] quality matrix to <paramref name="matches"/>. Like
    /// torchvision, an empty matrix is an error (no ground truth, or no predictions): the caller decides what
    /// an image without boxes means (RetinaNet labels all its anchors background).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Match(ReadOnlySpan<float> matchQualityMatrix, int numGt, int numPredictions, Span<int> matches)
    {
        int m = numGt, n = numPredictions;
        if (m < 0 || n < 0 || matchQualityMatrix.Length != (long)m * n)
            throw new ArgumentException($"Matcher: a [{m}, {n}] matrix needs {(long)m * n} values, got {matchQualityMatrix.Length}.");
        if (matches.Length != n) throw new ArgumentException($"Matcher: {n} predictions need {n} outputs, got {matches.Length}.");
        if (m == 0) throw new ArgumentException("No ground-truth boxes available for one of the images during training");
        if (n == 0) throw new ArgumentException("No proposal boxes available for one of the images during training");

        float[] bestRent = ArrayPool<float>.Shared.Rent(n);
        int[]? allRent = AllowLowQualityMatches ? ArrayPool<int>.Shared.Rent(n) : null;
        try
        {
            var best = bestRent.AsSpan(0, n);
            ColumnMax(matchQualityMatrix, m, n, best, matches);
            Span<int> allMatches = default;
            if (allRent is not null)
            {
                allMatches = allRent.AsSpan(0, n);
                matches.CopyTo(allMatches);
            }

            float low = LowThreshold, high = HighThreshold;
            for (int j = 0; j < n; j++)
            {
                float v = best[j];
                if (v < low) matches[j] = BelowLowThreshold;
                else if (v >= low && v < high) matches[j] = BetweenThresholds;
                // v ≥ high, or NaN (torch's comparisons are all false for NaN): keep the argmax.
            }

            if (allRent is not null) SetLowQualityMatches(matchQualityMatrix, m, n, matches, allMatches);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(bestRent);
            if (allRent is not null) ArrayPool<int>.Shared.Return(allRent);
        }
    }

    /// <summary>
    /// torch's max(dim=0) over ground-truth rows: per column the largest value and the first row holding it; the
    /// first NaN wins and sticks (torch's CPU kernel: <c>if (!(v &lt;= max)) { max = v; idx = i; if (isnan(v)) break; }</c>).
    /// Rows outer, columns vectorized: an update where (v &gt; best or v is NaN) and best is not NaN yet.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ColumnMax(ReadOnlySpan<float> q, int m, int n, Span<float> best, Span<int> argmax)
    {
        q[..n].CopyTo(best);
        argmax.Clear();
        ref float pb = ref MemoryMarshal.GetReference(best);
        ref int pi = ref MemoryMarshal.GetReference(argmax);
        for (int g = 1; g < m; g++)
        {
            ref float row = ref Unsafe.Add(ref MemoryMarshal.GetReference(q), g * n);
            int j = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                var gv = Vector512.Create(g);
                for (; j <= n - 16; j += 16)
                {
                    nuint o = (nuint)j;
                    var v = Vector512.LoadUnsafe(ref row, o);
                    var b = Vector512.LoadUnsafe(ref pb, o);
                    var take = Vector512.AndNot(Vector512.GreaterThan(v, b) | ~Vector512.Equals(v, v), ~Vector512.Equals(b, b));
                    Vector512.ConditionalSelect(take, v, b).StoreUnsafe(ref pb, o);
                    Vector512.ConditionalSelect(take.AsInt32(), gv, Vector512.LoadUnsafe(ref pi, o)).StoreUnsafe(ref pi, o);
                }
            }
            if (Vector256.IsHardwareAccelerated)
            {
                var gv = Vector256.Create(g);
                for (; j <= n - 8; j += 8)
                {
                    nuint o = (nuint)j;
                    var v = Vector256.LoadUnsafe(ref row, o);
                    var b = Vector256.LoadUnsafe(ref pb, o);
                    var take = Vector256.AndNot(Vector256.GreaterThan(v, b) | ~Vector256.Equals(v, v), ~Vector256.Equals(b, b));
                    Vector256.ConditionalSelect(take, v, b).StoreUnsafe(ref pb, o);
                    Vector256.ConditionalSelect(take.AsInt32(), gv, Vector256.LoadUnsafe(ref pi, o)).StoreUnsafe(ref pi, o);
                }
            }
            for (; j < n; j++)
            {
                float v = Unsafe.Add(ref row, j), b = Unsafe.Add(ref pb, j);
                if (!(v <= b) && !float.IsNaN(b))
                {
                    Unsafe.Add(ref pb, j) = v;
                    Unsafe.Add(ref pi, j) = g;
                }
            }
        }
    }

    /// <summary>
    /// set_low_quality_matches_: for each ground truth m, every prediction n with q[m, n] = maxₙ' q[m, n']
    /// (ties included) gets matches[n] = allMatches[n].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SetLowQualityMatches(ReadOnlySpan<float> q, int m, int n, Span<int> matches, ReadOnlySpan<int> allMatches)
    {
        for (int g = 0; g < m; g++)
        {
            var row = q.Slice(g * n, n);
            // TensorPrimitives.Max returns NaN if any element is NaN, as torch's max(dim=1); NaN then equals nothing.
            float highest = TensorPrimitives.Max(row);
            if (float.IsNaN(highest)) continue;
            int j = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                var hv = Vector512.Create(highest);
                for (; j <= n - 16; j += 16)
                {
                    ulong bits = Vector512.Equals(Vector512.LoadUnsafe(ref MemoryMarshal.GetReference(row), (nuint)j), hv).ExtractMostSignificantBits();
                    for (; bits != 0; bits &= bits - 1)
                    {
                        int k = j + System.Numerics.BitOperations.TrailingZeroCount(bits);
                        matches[k] = allMatches[k];
                    }
                }
            }
            for (; j < n; j++)
                if (row[j] == highest) matches[j] = allMatches[j];
        }
    }
}
