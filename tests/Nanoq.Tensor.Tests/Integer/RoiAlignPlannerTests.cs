using Nanoq.Kernels;
using Nanoq.Kernels.Integer;
using Nanoq.Tests.Kernels;

namespace Nanoq.Tests.Integer;

/// <summary>
/// <see cref="RoiAlignPlanner"/>'s weights, exactly, against the rule of its class comment written out plainly here: the
/// float32 sampling points and bilinear weights, each term w / count in float32, a pixel's ideal weight the double sum
/// of its terms in sampling order, ⌊a·2^22⌋ plus the largest-remainder units up to min(2^22, round(Σ a·2^22)) (ties
/// to the lower pixel; the smallest lose a unit when the floors overshoot), zero weights dropped. Every sampling ratio
/// (adaptive included), aligned or not, RoIs partly or wholly off the map. Also: the planner's pooled plans are returned
/// by Dispose and unusable afterwards. The 16-lane path runs at every vector level (its 256- and 512-bit forms), so the
/// tests switch <see cref="Simd.Level"/> and run alone.
/// </summary>
[Collection(SimdCollection.Name)]
public class RoiAlignPlannerTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Weights_follow_the_rule_exactly(int sampling)
    {
        var rng = new Rng((ulong)(90 + sampling));
        for (int round = 0; round < 40; round++)
        {
            int h = rng.NextInt(1, 30), w = rng.NextInt(1, 30), ph = rng.NextInt(1, 8), pw = rng.NextInt(1, 8);
            float scale = new[] { 1f, 0.5f, 0.25f }[rng.NextInt(3)];
            bool aligned = rng.NextInt(2) == 1;
            var rois = RoiAlignTests.RandomRois(rng, rng.NextInt(1, 6), 2, h / scale, w / scale);
            AssertFollowsRule(rois, h, w, ph, pw, scale, sampling, aligned);
        }
    }

    /// <summary>
    /// RoIs on whole map pixels with small pooled sizes: many sampling points fall exactly on pixel lines (a high tap of
    /// weight 0, still one of the bin's pixels for the remainder rule) or on the last row or column (low = high), and
    /// maps one pixel wide clamp every point.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(0)]
    public void Weights_follow_the_rule_exactly_on_pixel_lines(int sampling)
    {
        var rng = new Rng((ulong)(190 + sampling));
        for (int round = 0; round < 60; round++)
        {
            int h = rng.NextInt(1, 12), w = rng.NextInt(1, 12), ph = new[] { 1, 2, 4 }[rng.NextInt(3)], pw = new[] { 1, 2, 4 }[rng.NextInt(3)];
            float scale = new[] { 1f, 0.5f }[rng.NextInt(2)];
            var rois = RoiAlignTests.RandomRois(rng, rng.NextInt(1, 6), 2, h / scale, w / scale);
            for (int i = 0; i < rois.Length; i++)
                if (i % 5 != 0) rois[i] = MathF.Round(rois[i] * scale) / scale;   // whole pixels of the map
            AssertFollowsRule(rois, h, w, ph, pw, scale, sampling, aligned: false);
        }
    }

    /// <summary>
    /// Every way a plan is made on this CPU: the separable path, which serves every grid, and the 16-lane path for small
    /// grids in each form the CPU has (256-bit with AVX2, 512-bit with AVX-512).
    /// </summary>
    private static void AssertFollowsRule(float[] rois, int h, int w, int ph, int pw, float scale, int sampling, bool aligned)
    {
        AssertFollowsRule(rois, h, w, ph, pw, scale, sampling, aligned, lanes: false);
        foreach (var level in SimdLevels.VectorLevels)
            if (level != SimdLevel.Portable)
                SimdLevels.With(level, () => AssertFollowsRule(rois, h, w, ph, pw, scale, sampling, aligned, lanes: true));
    }

    private static void AssertFollowsRule(float[] rois, int h, int w, int ph, int pw, float scale, int sampling, bool aligned, bool lanes)
    {
        using var plan = RoiAlignPlanner.Build(rois, 2, h, w, ph, pw, scale, sampling, aligned, lanes);
        int k = rois.Length / 5;
        for (int r = 0; r < k; r++)
            for (int bin = 0; bin < ph * pw; bin++)
            {
                var (index, weight) = Reference(rois.AsSpan(5 * r, 5), h, w, ph, pw, bin / pw, bin % pw, scale, sampling, aligned);
                int j = r * ph * pw + bin, s = plan.TapStart[j], e = plan.TapStart[j + 1];
                Assert.Equal(index, plan.TapIndex[s..e].ToArray());
                Assert.Equal(weight, plan.TapWeight[s..e].ToArray());
            }
    }

    [Fact]
    public void Dispose_returns_the_pooled_arrays_and_the_plan_refuses_use_afterwards()
    {
        var plan = RoiAlignPlanner.Build([0f, 1f, 1f, 6f, 6f], 1, 8, 8, 2, 2, 1f, 2, false);
        Assert.True(plan.Taps > 0);
        plan.Dispose();
        Assert.Throws<ObjectDisposedException>(() => plan.TapIndex.Length);
        plan.Dispose();   // twice is harmless
    }

    /// <summary>One bin's taps by the rule: ascending pixels and their Q22 weights, zeros dropped.</summary>
    private static (int[] Index, int[] Weight) Reference(ReadOnlySpan<float> roi, int h, int w, int ph, int pw, int i, int j,
                                                        float scale, int sampling, bool aligned)
    {
        float off = aligned ? 0.5f : 0f;
        float sw = roi[1] * scale - off, sh = roi[2] * scale - off, ew = roi[3] * scale - off, eh = roi[4] * scale - off;
        float rw = ew - sw, rh = eh - sh;
        if (!aligned) { rw = MathF.Max(rw, 1f); rh = MathF.Max(rh, 1f); }
        float bh = rh / ph, bw = rw / pw;
        int gh = sampling > 0 ? sampling : (int)MathF.Ceiling(rh / ph), gw = sampling > 0 ? sampling : (int)MathF.Ceiling(rw / pw);
        float count = Math.Max(gh * gw, 1);
        var ideal = new SortedDictionary<int, double>();   // pixel → Σ terms, each added in sampling order
        void Add(int p, float term) => ideal[p] = ideal.TryGetValue(p, out var a) ? a + term : term;
        for (int iy = 0; iy < gh; iy++)
            for (int ix = 0; ix < gw; ix++)
            {
                float y = sh + i * bh + (iy + 0.5f) * bh / gh, x = sw + j * bw + (ix + 0.5f) * bw / gw;
                if (!(y >= -1f && y <= h && x >= -1f && x <= w)) continue;
                if (y <= 0) y = 0;
                if (x <= 0) x = 0;
                int y0 = (int)y, x0 = (int)x, y1 = y0 + 1, x1 = x0 + 1;
                if (y0 >= h - 1) { y0 = y1 = h - 1; y = y0; }
                if (x0 >= w - 1) { x0 = x1 = w - 1; x = x0; }
                float ly = y - y0, lx = x - x0, hy = (float)(1.0 - ly), hx = (float)(1.0 - lx);
                Add(y0 * w + x0, hy * hx / count);
                Add(y0 * w + x1, hy * lx / count);
                Add(y1 * w + x0, ly * hx / count);
                Add(y1 * w + x1, ly * lx / count);
            }
        var pixels = ideal.Keys.ToArray();
        var a = ideal.Values.ToArray();
        const double one = IntRoiAlignPlan.One;
        long target = Math.Min((long)one, (long)Math.Round(a.Sum() * one, MidpointRounding.ToEven));
        var units = a.Select(v => (long)Math.Floor(v * one)).ToArray();
        var byRemainder = Enumerable.Range(0, a.Length).OrderByDescending(q => a[q] * one - units[q]).ThenBy(q => q).ToArray();
        long sum = units.Sum();
        for (int q = 0; sum < target; q = (q + 1) % a.Length, sum++) units[byRemainder[q]]++;
        for (int q = a.Length - 1; sum > target; q = (q - 1 + a.Length) % a.Length)
            if (units[byRemainder[q]] > 0) { units[byRemainder[q]]--; sum--; }
        var kept = Enumerable.Range(0, a.Length).Where(q => units[q] != 0).ToArray();
        return (kept.Select(q => pixels[q]).ToArray(), kept.Select(q => (int)units[q]).ToArray());
    }
}
