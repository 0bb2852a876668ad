namespace Nanoq.Cli.Reproduce;

/// <summary>
/// Judges a claim from the numbers. A gain A − B is significant when it exceeds two standard errors of the difference
/// of means (≈ 95% for normal noise): SE = √(s_A²/n_A + s_B²/n_B), each s from the row's own seeds when it has two or
/// more, else the plan's noise estimate (the pooled seed-to-seed standard deviation of the rows that ran several seeds).
/// A significant effect in the claimed direction is "reproduced", in the other "not reproduced"; anything smaller is
/// "within noise". No standard deviation is taken below <see cref="MinSd"/>: two rows that happen to agree to the last
/// digit over their seeds do not make a 0.01-AP difference significant. Paired differences (F's gain at batch 2 against at batch 8) come in already paired seed by seed.
/// </summary>
public static class ClaimCheck
{
    /// <summary>The noise assumed when no row ran two seeds (one seed: nothing measured); the report says when it is used.</summary>
    public const double AssumedNoiseSd = 0.5;

    /// <summary>The smallest standard deviation a row is taken to have (AP points; the tables print one decimal).</summary>
    public const double MinSd = 0.1;

    public static Verdict Gain(IReadOnlyList<double> a, IReadOnlyList<double> b, double noiseSd)
    {
        double effect = Mean(a) - Mean(b);
        double se = Math.Sqrt(Var(a, noiseSd) / a.Count + Var(b, noiseSd) / b.Count);
        return new Verdict(effect, se, Math.Abs(effect) <= 2 * se ? "within noise" : effect > 0 ? "reproduced" : "not reproduced");
    }

    /// <summary>A difference shown without a claim (the paper argues nothing from it): effect and SE, verdict "delta".</summary>
    public static Verdict Delta(IReadOnlyList<double> a, IReadOnlyList<double> b, double noiseSd)
    {
        var g = Gain(a, b, noiseSd);
        return g with { Text = "delta" };
    }

    /// <summary>
    /// (top − a) / (top − b) ≥ bound: b's loss at least <paramref name="bound"/> times smaller than a's. If b's loss is
    /// within noise of zero the ratio is unbounded: reproduced when a's loss is significant, within noise when neither is.
    /// </summary>
    public static Verdict RatioAtLeast(IReadOnlyList<double> top, IReadOnlyList<double> a, IReadOnlyList<double> b, double bound, double noiseSd)
    {
        var lossA = Gain(top, a, noiseSd);
        var lossB = Gain(top, b, noiseSd);
        if (lossB.Text != "reproduced")
            return new Verdict(double.PositiveInfinity, lossB.StandardError, lossA.Text == "reproduced" ? "reproduced" : "within noise");
        double ratio = lossA.Effect / lossB.Effect;
        return new Verdict(ratio, lossB.StandardError, ratio >= bound ? "reproduced" : "not reproduced");
    }

    /// <summary>Per-seed differences of two rows run with the same seeds (index i of each is seed i).</summary>
    public static double[] Paired(IReadOnlyList<double> a, IReadOnlyList<double> b) =>
        Enumerable.Range(0, Math.Min(a.Count, b.Count)).Select(i => a[i] - b[i]).ToArray();

    /// <summary>The pooled standard deviation of rows with two or more seeds (√ of the mean variance), or null if there are none.</summary>
    public static double? PooledSd(IEnumerable<IReadOnlyList<double>> rows)
    {
        var v = rows.Where(r => r.Count >= 2).Select(r => SampleVar(r)).ToList();
        return v.Count == 0 ? null : Math.Sqrt(v.Average());
    }

    public static double Mean(IReadOnlyList<double> x) => x.Count == 0 ? double.NaN : x.Average();

    /// <summary>The sample standard deviation (n − 1), 0 for one value.</summary>
    public static double Sd(IReadOnlyList<double> x) => x.Count < 2 ? 0 : Math.Sqrt(SampleVar(x));

    private static double SampleVar(IReadOnlyList<double> x)
    {
        double m = x.Average();
        return x.Sum(v => (v - m) * (v - m)) / (x.Count - 1);
    }

    private static double Var(IReadOnlyList<double> x, double noiseSd) => Math.Max(MinSd * MinSd, x.Count >= 2 ? SampleVar(x) : noiseSd * noiseSd);
}
