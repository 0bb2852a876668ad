using FsCheck.Xunit;
using Nanoq.Kernels;
using Nanoq.Kernels.Integer;
using Nanoq.Tests.Kernels;
using Xunit.Abstractions;

namespace Nanoq.Tests.Integer;

/// <summary>
/// RoIAlign on codes (DESIGN.md §5): the plan reproduces the float RoIAlign as a linear map, outputs stay on the grid
/// within the range of the codes they read, and the integer kernel agrees with the fake-quant model (float RoIAlign of
/// dequantized codes, rounded back onto the same grid) code for code except near rounding boundaries.
/// </summary>
[Collection(SimdCollection.Name)]
public class IntRoiAlignTests(ITestOutputHelper output)
{
    private readonly record struct Case(int N, int C, int H, int W, int PH, int PW, float Scale, int Sampling, bool Aligned, float[] Rois);

    private static Case RandomCase(Rng rng, bool inside = false)
    {
        int n = rng.NextInt(1, 3), c = rng.NextInt(1, 4), h = rng.NextInt(1, 12), w = rng.NextInt(1, 12);
        float scale = new[] { 1f, 0.5f, 0.25f }[rng.NextInt(3)];
        int k = rng.NextInt(0, 6);
        float[] rois;
        if (inside)
        {
            rois = new float[5 * k];
            for (int r = 0; r < k; r++)
            {
                rois[5 * r] = rng.NextInt(n);
                float x1 = rng.Uniform(0f, (w - 1) / scale), y1 = rng.Uniform(0f, (h - 1) / scale);
                rois[5 * r + 1] = x1; rois[5 * r + 2] = y1;
                rois[5 * r + 3] = rng.Uniform(x1 + 1f / scale, w / scale); rois[5 * r + 4] = rng.Uniform(y1 + 1f / scale, h / scale);
            }
        }
        else rois = RoiAlignTests.RandomRois(rng, k, n, h / scale, w / scale);
        return new Case(n, c, h, w, rng.NextInt(1, 8), rng.NextInt(1, 8), scale, rng.NextInt(-1, 4), !inside && rng.NextInt(2) == 1, rois);
    }

    private static IntRoiAlignPlan Plan(Case t) =>
        RoiAlignPlanner.Build(t.Rois, t.N, t.H, t.W, t.PH, t.PW, t.Scale, t.Sampling, t.Aligned);

    private static byte[] Codes(Rng rng, int n, int bits)
    {
        var a = new byte[n];
        for (int i = 0; i < n; i++) a[i] = (byte)rng.NextInt(1 << bits);
        return a;
    }

    /// <summary>Σ_taps W/2²² · x[p] equals the float RoIAlign for any float x, within the weights' rounding (2⁻²² a tap).</summary>
    [Property(MaxTest = 60)]
    public bool Plan_is_the_float_RoiAlign_as_a_linear_map(int seed)
    {
        var rng = new Rng((ulong)seed);
        var t = RandomCase(rng);
        var plan = Plan(t);
        var x = Data.Uniform(rng, t.N * t.C * t.H * t.W);
        var y = new float[t.Rois.Length / 5 * t.C * t.PH * t.PW];
        RoiAlign.Forward(x, t.N, t.C, t.H, t.W, t.Rois, t.PH, t.PW, t.Scale, t.Sampling, t.Aligned, y);
        int bins = t.PH * t.PW, plane = t.H * t.W;
        for (int k = 0; k < plan.NumRois; k++)
            for (int ch = 0; ch < t.C; ch++)
                for (int b = 0; b < bins; b++)
                {
                    double s = 0, taps = 0;
                    int j = k * bins + b;
                    for (int q = plan.TapStart[j]; q < plan.TapStart[j + 1]; q++, taps++)
                        s += plan.TapWeight[q] / (double)IntRoiAlignPlan.One * x[(plan.Batch[k] * t.C + ch) * plane + plan.TapIndex[q]];
                    double e = y[(k * t.C + ch) * bins + b];
                    if (Math.Abs(s - e) > 1e-5 + (taps + 1) * 2.0 * 2 / IntRoiAlignPlan.One) return false;
                }
        return true;
    }

    /// <summary>A bin whose sampling points all lie on the map sums to exactly one (2²²); no bin exceeds it.</summary>
    [Property(MaxTest = 60)]
    public bool Weights_of_an_on_map_bin_sum_to_one(int seed)
    {
        var rng = new Rng((ulong)seed);
        var t = RandomCase(rng, inside: true);
        var plan = Plan(t);
        for (int j = 0; j < plan.Bins; j++)
        {
            long s = 0;
            for (int q = plan.TapStart[j]; q < plan.TapStart[j + 1]; q++) s += plan.TapWeight[q];
            if (s != IntRoiAlignPlan.One) return false;
        }
        return true;
    }

    /// <summary>
    /// Outputs stay on the input's grid: within [min, max] of the codes their taps read — and of z where points fell off
    /// the map (they count as real 0) — so in [0, 2^k − 1] for k-bit codes.
    /// </summary>
    [Property(MaxTest = 100)]
    public bool Codes_stay_on_the_grid_within_the_range_they_read(int seed)
    {
        var rng = new Rng((ulong)seed);
        var t = RandomCase(rng);
        int bits = rng.NextInt(2, 9), z = rng.NextInt(1 << bits);
        var codes = Codes(rng, t.N * t.C * t.H * t.W, bits);
        var plan = Plan(t);
        var y = new byte[plan.NumRois * t.C * t.PH * t.PW];
        IntRoiAlign.Forward(plan, codes, t.N, t.C, z, y);
        int bins = t.PH * t.PW, plane = t.H * t.W;
        for (int k = 0; k < plan.NumRois; k++)
            for (int ch = 0; ch < t.C; ch++)
                for (int b = 0; b < bins; b++)
                {
                    int j = k * bins + b, lo = int.MaxValue, hi = int.MinValue;
                    long sum = 0;
                    for (int q = plan.TapStart[j]; q < plan.TapStart[j + 1]; q++)
                    {
                        int v = codes[(plan.Batch[k] * t.C + ch) * plane + plan.TapIndex[q]];
                        lo = Math.Min(lo, v); hi = Math.Max(hi, v);
                        sum += plan.TapWeight[q];
                    }
                    if (sum < IntRoiAlignPlan.One) { lo = Math.Min(lo, z); hi = Math.Max(hi, z); }
                    int o = y[(k * t.C + ch) * bins + b];
                    if (o < lo || o > hi || o >= 1 << bits) return false;
                }
        return true;
    }

    /// <summary>
    /// The accumulators before rounding are the naive Σ_taps W · (q − z) over the plan (int64 here), written to the rows
    /// asked for; rounded half to even by 2^22 they are Forward's codes.
    /// </summary>
    [Property(MaxTest = 50)]
    public bool Accumulators_are_the_naive_weighted_sums_and_round_to_the_codes(int seed)
    {
        var rng = new Rng((ulong)seed);
        var t = RandomCase(rng);
        int z = rng.NextInt(256);
        var codes = Codes(rng, t.N * t.C * t.H * t.W, 8);
        var plan = Plan(t);
        int bins = t.PH * t.PW, plane = t.H * t.W, row = t.C * bins;
        var rows = Enumerable.Range(0, plan.NumRois).Reverse().ToArray(); // scattered: RoI k to row K − 1 − k
        var acc = new int[plan.NumRois * row];
        IntRoiAlign.Accumulate(plan, codes, t.N, t.C, z, acc, rows);
        var y = new byte[acc.Length];
        IntRoiAlign.Forward(plan, codes, t.N, t.C, z, y, rows);
        for (int k = 0; k < plan.NumRois; k++)
            for (int ch = 0; ch < t.C; ch++)
                for (int b = 0; b < bins; b++)
                {
                    int j = k * bins + b;
                    long sum = 0;
                    for (int q = plan.TapStart[j]; q < plan.TapStart[j + 1]; q++)
                        sum += (long)plan.TapWeight[q] * (codes[(plan.Batch[k] * t.C + ch) * plane + plan.TapIndex[q]] - z);
                    int at = rows[k] * row + ch * bins + b;
                    if (acc[at] != sum) return false;
                    double exact = (double)sum / IntRoiAlignPlan.One;
                    if (y[at] != z + (int)Math.Round(exact, MidpointRounding.ToEven)) return false;
                }
        return true;
    }

    /// <summary>Hand case: two pixels 3 and 4 averaged (z = 0) is 3.5, which rounds half to even → 4; with z = 1, 2.5 → 2, so 3.</summary>
    [Fact]
    public void Rounds_half_to_even_relative_to_the_zero_point()
    {
        // A 1x2 map, one RoI covering both pixel centres: x in [0, 1], sampled at x = 0.25 and 0.75 (sampling 2, 1x1
        // output, aligned=false), y = 0: the weights are 0.75/0.25 and 0.25/0.75 averaged → 0.5 each.
        var plan = RoiAlignPlanner.Build([0, 0, 0, 1, 1], 1, 1, 2, 1, 1, 1f, 2, false);
        Assert.Equal([0, 1], plan.TapIndex.ToArray());
        Assert.Equal([IntRoiAlignPlan.One / 2, IntRoiAlignPlan.One / 2], plan.TapWeight.ToArray());
        var y = new byte[1];
        IntRoiAlign.Forward(plan, [3, 4], 1, 1, 0, y);
        Assert.Equal(4, y[0]);     // 3.5 → 4 (even)
        IntRoiAlign.Forward(plan, [3, 4], 1, 1, 1, y);
        Assert.Equal(3, y[0]);     // z + round(2.5) = 1 + 2
        IntRoiAlign.Forward(plan, [2, 3], 1, 1, 0, y);
        Assert.Equal(2, y[0]);     // 2.5 → 2 (even)
    }

    /// <summary>
    /// The integer kernel against the fake-quant model (float RoIAlign of dequantized codes, rounded onto the same grid
    /// half to even with float32 1/Δ), at 4 and 8 bits, over random maps, RoIs (partly outside included), scales and
    /// sampling ratios. Disagreements can only come from float noise or the weights' 2⁻²² rounding at a rounding
    /// boundary (exact ties are common: off-map points and axis-aligned samples give weights like 1/2, 1/4).
    /// Bound: ≥ 99% identical codes, never more than one step apart.
    /// </summary>
    [Theory]
    [InlineData(4, false)]
    [InlineData(8, false)]
    [InlineData(4, true)]
    [InlineData(8, true)]
    public void Agrees_with_the_fake_quant_model(int bits, bool integerBoxes)
    {
        var rng = new Rng((ulong)(bits * 31 + (integerBoxes ? 7 : 0)));
        long total = 0, same = 0;
        int maxDiff = 0;
        for (int trial = 0; trial < 300; trial++)
        {
            var t = RandomCase(rng);
            if (integerBoxes) for (int i = 0; i < t.Rois.Length; i++) if (i % 5 != 0) t.Rois[i] = MathF.Round(t.Rois[i]);
            int z = rng.NextInt(1 << bits), qmax = (1 << bits) - 1;
            float delta = rng.Uniform(0.01f, 0.5f);
            var codes = Codes(rng, t.N * t.C * t.H * t.W, bits);
            var plan = Plan(t);
            var yi = new byte[plan.NumRois * t.C * t.PH * t.PW];
            var yf = new byte[yi.Length];
            IntRoiAlign.Forward(plan, codes, t.N, t.C, z, yi);
            RoiAlignOnGrid.Forward(codes, t.N, t.C, t.H, t.W, delta, z, 0, qmax, t.Rois, t.PH, t.PW, t.Scale, t.Sampling, t.Aligned, yf);
            for (int i = 0; i < yi.Length; i++)
            {
                total++;
                if (yi[i] == yf[i]) same++;
                maxDiff = Math.Max(maxDiff, Math.Abs(yi[i] - yf[i]));
            }
        }
        double rate = (double)same / total;
        output.WriteLine($"{bits}-bit, {(integerBoxes ? "integer" : "random")} boxes: {same}/{total} identical ({rate:P3}), max difference {maxDiff} step(s)");
        Assert.True(total > 10000, $"only {total} outputs compared");
        Assert.True(rate >= 0.99, $"{bits}-bit: only {rate:P3} identical codes");
        Assert.True(maxDiff <= 1, $"{bits}-bit: codes {maxDiff} steps apart");
    }

    /// <summary>
    /// The kernel against a naive loop over the plan in double: z + round_half_even(Σ W (q − z) / 2²²) (exact in double),
    /// RoI rows scattered to a permutation of the output rows.
    /// </summary>
    [Property(MaxTest = 60)]
    public bool Kernel_equals_the_naive_loop_and_scatters_rows(int seed)
    {
        var rng = new Rng((ulong)seed);
        var t = RandomCase(rng);
        int z = rng.NextInt(256);
        var codes = Codes(rng, t.N * t.C * t.H * t.W, 8);
        var plan = Plan(t);
        int bins = t.PH * t.PW, plane = t.H * t.W, k = plan.NumRois;
        var rows = rng.Permutation(k + 2)[..k];
        var y = new byte[(k + 2) * t.C * bins];
        IntRoiAlign.Forward(plan, codes, t.N, t.C, z, y, rows);
        for (int r = 0; r < k; r++)
            for (int ch = 0; ch < t.C; ch++)
                for (int b = 0; b < bins; b++)
                {
                    double acc = 0;
                    int j = r * bins + b;
                    for (int q = plan.TapStart[j]; q < plan.TapStart[j + 1]; q++)
                        acc += (double)plan.TapWeight[q] * (codes[(plan.Batch[r] * t.C + ch) * plane + plan.TapIndex[q]] - z);
                    int e = z + (int)Math.Round(acc / IntRoiAlignPlan.One, MidpointRounding.ToEven);
                    if (y[(rows[r] * t.C + ch) * bins + b] != e) return false;
                }
        return true;
    }

    [Fact]
    public void Rejects_two_rois_writing_one_row()
    {
        var plan = RoiAlignPlanner.Build([0, 0, 0, 1, 1, 0, 0, 0, 2, 2], 1, 2, 2, 1, 1, 1f, 2, false);
        Assert.Throws<ArgumentException>(() => IntRoiAlign.Forward(plan, new byte[4], 1, 1, 0, new byte[2], [1, 1]));
    }

    /// <summary>
    /// Channel counts that fill the kernel's 16-lane vectors and leave a tail (16, 17, 40, 64, 80, 128): the accumulators equal
    /// the naive Σ W · (q − z) (int64) and <see cref="IntRoiAlign.Requantize"/> equals the scalar requantization of each
    /// naive accumulator, both rounding modes, RoIs scattered to a permutation of the rows.
    /// </summary>
    [Theory]
    [InlineData(16, RequantRounding.Double)]
    [InlineData(17, RequantRounding.Single)]
    [InlineData(40, RequantRounding.Double)]
    [InlineData(64, RequantRounding.Single)]
    [InlineData(80, RequantRounding.Double)]    // AVX-512: 64 channels at once, then a slice of 16
    [InlineData(128, RequantRounding.Single)]
    public void Wide_channels_equal_the_naive_loop_and_requantize_like_the_scalar(int channels, RequantRounding rounding)
    {
        foreach (var level in SimdLevels.VectorLevels) SimdLevels.With(level, () => WideChannels(channels, rounding));
    }

    private static void WideChannels(int channels, RequantRounding rounding)
    {
        var rng = new Rng((ulong)(channels * 7 + (int)rounding));
        for (int trial = 0; trial < 20; trial++)
        {
            var t = RandomCase(rng) with { C = channels };
            int z = rng.NextInt(256), zy = rng.NextInt(16);
            var codes = Codes(rng, t.N * t.C * t.H * t.W, 8);
            var plan = Plan(t);
            var rq = Requantization.PerTensor((1 << 30) + rng.NextInt(1 << 30), rng.NextInt(-24, -17), zy, 0, 15, rounding);
            int bins = t.PH * t.PW, plane = t.H * t.W, k = plan.NumRois, row = t.C * bins;
            var rows = rng.Permutation(k);
            var acc = new int[k * row];
            var y = new byte[k * row];
            IntRoiAlign.Accumulate(plan, codes, t.N, t.C, z, acc, rows);
            IntRoiAlign.Requantize(plan, codes, t.N, t.C, z, rq, y, rows);
            for (int r = 0; r < k; r++)
                for (int ch = 0; ch < t.C; ch++)
                    for (int b = 0; b < bins; b++)
                    {
                        long sum = 0;
                        int j = r * bins + b;
                        for (int q = plan.TapStart[j]; q < plan.TapStart[j + 1]; q++)
                            sum += (long)plan.TapWeight[q] * (codes[(plan.Batch[r] * t.C + ch) * plane + plan.TapIndex[q]] - z);
                        int at = rows[r] * row + ch * bins + b;
                        Assert.Equal(sum, acc[at]);
                        Assert.Equal(rq.Apply((int)sum, 0), y[at]);
                    }
        }
    }

    /// <summary>
    /// Plans are made in parallel, a run of RoIs a task: the plan is the same whatever the thread count (many RoIs, so
    /// several tasks each, and bins of every size of the adaptive sampling grid).
    /// </summary>
    [Fact]
    public void Plan_does_not_depend_on_the_thread_count()
    {
        var rng = new Rng(11);
        var rois = RoiAlignTests.RandomRois(rng, 300, 3, 96, 80);
        foreach (int sampling in new[] { 2, 0 })
        {
            var one = Threads.With(1, () => RoiAlignPlanner.Build(rois, 3, 24, 20, 7, 7, 0.25f, sampling, false));
            var two = Threads.With(2, () => RoiAlignPlanner.Build(rois, 3, 24, 20, 7, 7, 0.25f, sampling, false));
            Assert.Equal(one.Batch, two.Batch);
            Assert.Equal(one.TapStart, two.TapStart);
            Assert.Equal(one.TapIndex, two.TapIndex);
            Assert.Equal(one.TapWeight, two.TapWeight);
            Assert.True(one.TapIndex.Length > 300 * 49, $"only {one.TapIndex.Length} taps");
        }
    }
}
