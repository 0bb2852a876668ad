using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Nanoq.Coco.Evaluation;

namespace Nanoq.Cli.Reproduce;

/// <summary>
/// report.md and report.json from the plan and its cells' results. Each table in the paper's layout: the paper's AP
/// beside Nanoq's (mean ± sd over the row's seeds), then a line per claim with the effect, its standard error and the
/// verdict <see cref="ClaimCheck"/> computes — nothing in the verdicts is written by hand. report.json holds every cell
/// (configuration, the 12 COCO numbers, wall time, curves) and the same tables and claims as data.
/// </summary>
public sealed class ReportWriter(ReproducePlan plan, IReadOnlyDictionary<string, CellResult> results, string machine)
{
    private static string F(double v, string format = "F1") =>
        double.IsPositiveInfinity(v) ? "∞" : double.IsNaN(v) ? "n/a" : v.ToString(format, CultureInfo.InvariantCulture);

    private double[] Aps(PlanRow row) => row.Cells.Select(c => results[c.Id].Ap).ToArray();

    /// <summary>The seed-to-seed noise the single-seed claims are judged with, and where it came from.</summary>
    public (double Sd, string Source) Noise()
    {
        var multi = plan.Tables.SelectMany(t => t.Rows).Where(r => r.Cells.Count >= 2).DistinctBy(r => r.Cells[0].Id).ToList();
        return ClaimCheck.PooledSd(multi.Select(r => (IReadOnlyList<double>)Aps(r))) is double sd
            ? (sd, $"pooled seed-to-seed standard deviation of the {multi.Count} rows run with {plan.Seeds} seeds: {F(sd, "F2")} AP")
            : (ClaimCheck.AssumedNoiseSd, $"no row ran two seeds (--seeds 1), so single-seed rows are judged against an assumed {ClaimCheck.AssumedNoiseSd} AP");
    }

    public Verdict Judge(PlanClaim claim, double noiseSd)
    {
        var a = Aps(claim.A);
        var b = Aps(claim.B);
        return claim.Kind switch
        {
            ClaimKind.Gain when claim.C is not null && claim.D is not null =>
                ClaimCheck.Gain(ClaimCheck.Paired(a, b), ClaimCheck.Paired(Aps(claim.C), Aps(claim.D)), noiseSd * Math.Sqrt(2)),
            ClaimKind.Gain => ClaimCheck.Gain(a, b, noiseSd),
            ClaimKind.RatioAtLeast => ClaimCheck.RatioAtLeast(a, b, Aps(claim.C!), claim.Bound, noiseSd),
            _ => ClaimCheck.Delta(a, b, noiseSd),
        };
    }

    public string Markdown(IReadOnlyList<(string Caption, IReadOnlyList<string> Files)> figures)
    {
        var (noise, noiseSource) = Noise();
        var md = new StringBuilder();
        md.AppendLine("# Fully Quantized Network for Object Detection, reproduced by Nanoq at CPU scale").AppendLine();
        md.AppendLine($"Generated {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC on {machine}.").AppendLine();
        md.AppendLine($"Configuration: {plan.Budget.Describe()}; data {plan.Data}; {plan.Seeds} seed(s) for F's rows.").AppendLine();
        md.AppendLine("CPU scale replaces the paper's COCO scale: small backbones on the bundled `shapes` data set and short schedules, so " +
                      "absolute APs are not comparable with the paper's; the differences between rows are what is compared.").AppendLine();
        md.AppendLine(PaperNumbers.Missing).AppendLine();
        md.AppendLine($"Noise: {noiseSource}. A claimed gain is **reproduced** when it exceeds two standard errors in the paper's direction, " +
                      "**not reproduced** when it does so in the other, and **within noise** otherwise.").AppendLine();
        int[] tally = new int[3];
        foreach (var table in plan.Tables)
        {
            md.AppendLine($"## {table.Title}").AppendLine().AppendLine(table.Note).AppendLine();
            md.AppendLine("| row | paper AP | AP | seeds | AP50 | AP75 | APs | APm | APl | AR100 |");
            md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var row in table.Rows)
            {
                var aps = Aps(row);
                var paper = PaperNumbers.For(row.PaperKey);
                string mean = row.Cells.Count > 1 ? $"{F(ClaimCheck.Mean(aps))} ± {F(ClaimCheck.Sd(aps))}" : F(aps[0]);
                var m = MeanStats(row);
                double lr = row.Cells.Min(c => results[c.Id].LrScale);
                string label = lr < 1 ? $"{row.Label} (LR ×{F(lr, "G2")}: diverged at the full LR)" : row.Label;
                md.AppendLine($"| {label} | {(paper is { } p ? $"[{F(p.Ap)}]({p.Url})" : "n/a")} | {mean} | {row.Cells.Count} | " +
                              string.Join(" | ", new[] { 1, 2, 3, 4, 5, 8 }.Select(i => Points(m[i]))) + " |");
            }
            md.AppendLine();
            foreach (var claim in table.Claims)
            {
                var v = Judge(claim, noise);
                if (v.Text == "reproduced") tally[0]++;
                else if (v.Text == "not reproduced") tally[1]++;
                else if (v.Text == "within noise") tally[2]++;
                string effect = claim.Kind == ClaimKind.RatioAtLeast ? $"ratio {F(v.Effect, "F2")} (bound {F(claim.Bound)}, [abstract]({PaperNumbers.AbstractUrl}))"
                                                                      : $"{(v.Effect >= 0 ? "+" : "")}{F(v.Effect, "F2")} ± {F(v.StandardError, "F2")} AP";
                string verdict = v.Text == "delta" ? "delta (no claim)" : $"**{v.Text}**";
                md.AppendLine($"- {claim.Text}: {effect} → {verdict}{(claim.Kind == ClaimKind.Gain ? " (paper: n/a)" : "")}");
            }
            md.AppendLine();
        }
        md.AppendLine("## Figures").AppendLine();
        foreach (var (caption, files) in figures)
        {
            md.AppendLine($"{caption}").AppendLine();
            foreach (var f in files) md.AppendLine($"![{f}]({f})");
            md.AppendLine();
        }
        md.AppendLine("## Summary").AppendLine();
        md.AppendLine($"{tally[0]} claim(s) reproduced, {tally[1]} not reproduced, {tally[2]} within noise, at this budget.");
        return md.ToString();
    }

    public JsonObject Json(IReadOnlyList<(string Caption, IReadOnlyList<string> Files)> figures)
    {
        var (noise, noiseSource) = Noise();
        var tables = new JsonArray();
        foreach (var t in plan.Tables)
        {
            var rows = new JsonArray();
            foreach (var r in t.Rows)
            {
                var aps = Aps(r);
                var paper = PaperNumbers.For(r.PaperKey);
                rows.Add(new JsonObject
                {
                    ["label"] = r.Label, ["cells"] = new JsonArray(r.Cells.Select(c => (JsonNode?)c.Id).ToArray()),
                    ["ap"] = new JsonArray(aps.Select(a => (JsonNode?)Math.Round(a, 3)).ToArray()),
                    ["ap_mean"] = Math.Round(ClaimCheck.Mean(aps), 3), ["ap_sd"] = Math.Round(ClaimCheck.Sd(aps), 3),
                    ["coco_mean"] = Stats(MeanStats(r)),
                    ["paper_ap"] = paper?.Ap, ["paper_source"] = paper?.Url,
                });
            }
            var claims = new JsonArray();
            foreach (var c in t.Claims)
            {
                var v = Judge(c, noise);
                claims.Add(new JsonObject
                {
                    ["claim"] = c.Text, ["kind"] = c.Kind.ToString(), ["effect"] = Finite(v.Effect), ["standard_error"] = Finite(v.StandardError), ["verdict"] = v.Text,
                });
            }
            tables.Add(new JsonObject { ["key"] = t.Key, ["title"] = t.Title, ["note"] = t.Note, ["rows"] = rows, ["claims"] = claims });
        }
        var cells = new JsonArray();
        foreach (var c in plan.Cells)
        {
            var r = results[c.Id];
            cells.Add(new JsonObject
            {
                ["id"] = r.Id, ["kind"] = r.Kind, ["label"] = r.Label, ["config"] = r.Config.DeepClone(),
                ["coco"] = r.Stats.Length > 0 ? Stats(r.Stats) : null, ["wall_seconds"] = r.WallSeconds, ["lr_scale"] = r.LrScale,
                ["curve"] = new JsonArray(r.Curve.Select(p => (JsonNode?)new JsonObject { ["step"] = p.Step, ["coco"] = Stats(p.Stats) }).ToArray()),
                ["series_lengths"] = new JsonObject(r.Series.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value.Length))),
            });
        }
        return new JsonObject
        {
            ["paper"] = "Fully Quantized Network for Object Detection (Li, Dong, Wang, CVPR 2019)",
            ["budget"] = JsonSerializer.SerializeToNode(plan.Budget), ["seeds"] = plan.Seeds, ["data"] = plan.Data.ToString(),
            ["machine"] = machine, ["noise_sd"] = Math.Round(noise, 4), ["noise_source"] = noiseSource, ["paper_numbers"] = PaperNumbers.Missing,
            ["tables"] = tables, ["cells"] = cells,
            ["figures"] = new JsonArray(figures.SelectMany(f => f.Files).Select(f => (JsonNode?)f).ToArray()),
        };
    }

    /// <summary>A COCO number in points; pycocotools' −1 (no object of that size in the val split) as "–".</summary>
    private static string Points(double v) => v < 0 ? "–" : F(100 * v);

    /// <summary>The 12 numbers averaged over a row's seeds.</summary>
    private double[] MeanStats(PlanRow row) =>
        Enumerable.Range(0, 12).Select(i => row.Cells.Average(c => results[c.Id].Stats is { Length: 12 } s ? s[i] : double.NaN)).ToArray();

    private static JsonObject Stats(double[] s)
    {
        var o = new JsonObject();
        for (int i = 0; i < s.Length; i++) o[CocoStats.Keys[i]] = Math.Round(s[i], 4);
        return o;
    }

    /// <summary>JSON has no ∞: an unbounded ratio is written as null.</summary>
    private static double? Finite(double v) => double.IsFinite(v) ? Math.Round(v, 4) : null;
}
