using Nanoq.Quant;

namespace Nanoq.Cli.Reproduce;

/// <summary>
/// The paper's experiments as cells: the tables (rows of cells, claims between rows) and the figures' cells, built from
/// a budget and a seed count. Every row of Tables 2–5 and of the batch-size question fine-tunes the same float ResNet-18
/// RetinaNet (<see cref="Main"/>), and a row that two tables share is one cell (ids come from configurations). The
/// rows F's claims rest on — F+P+C and P+C, at both bit widths and both batch sizes, and the last-N rows — run
/// <see cref="Seeds"/> seeds, since F's gain is the paper's smallest difference; the others run one, and their claims are
/// judged with the seed-to-seed spread those rows measure.
/// </summary>
public sealed class ReproducePlan
{
    /// <summary>Figure 1's layer (the paper's layer2.0.bn1 of ResNet-18).</summary>
    public const string ProbeLayer = "layer2.0.bn1";

    public Budget Budget { get; }
    public int Seeds { get; }
    public DataSpec Data { get; }
    public FloatCell Main { get; }
    public IReadOnlyList<PlanTable> Tables { get; }

    /// <summary>Figure 1: the unfrozen (no F) 4-bit fine-tuning whose batch-norm statistics are recorded.</summary>
    public QuantCell ProbeCell { get; }

    /// <summary>Figure 2: the trained detector's and the ImageNet ResNet-18's weight-range ratios.</summary>
    public RangeCell TrainedRanges { get; }
    public RangeCell ImageNetRanges { get; }

    /// <summary>Figure 4: Table 5's methods, each the first seed's curve.</summary>
    public IReadOnlyList<(string Method, QuantCell Cell)> Curves { get; }

    /// <summary>Every distinct cell, each after the cells it depends on.</summary>
    public IReadOnlyList<CellSpec> Cells { get; }

    public ReproducePlan(Budget budget, int seeds)
    {
        Budget = budget;
        Seeds = seeds;
        Data = DataSpec.For(budget);
        Main = Float("retinanet", "resnet18", budget.MainFloatSteps);
        var tables = new List<PlanTable>();

        // Table 2 first: its rows are the ones the other tables reuse.
        var ablation = new Dictionary<int, Dictionary<string, PlanRow>>();
        foreach (int bits in new[] { 4, 8 })
        {
            var rows = new Dictionary<string, PlanRow>();
            foreach (var r in QuantRecipe.Ablation(bits))
            {
                bool fRow = r.Name is "F+P+C" or "P+C";
                rows[r.Name] = Row(r.Name == "baseline" ? "none (Jacob et al.)" : r.Name, r, fRow ? seeds : 1, $"t2.{bits}.{r.Name}",
                                   probe: bits == 4 && r.Name == "P+C" ? ProbeLayer : null);
            }
            ablation[bits] = rows;
            var fqn = rows["F+P+C"];
            var claims = new List<PlanClaim>
            {
                new($"F's gain at {bits} bits (F+P+C − P+C)", ClaimKind.Gain, fqn, rows["P+C"]),
                new($"P's gain at {bits} bits (F+P+C − F+C)", ClaimKind.Gain, fqn, rows["F+C"]),
                new($"C's gain at {bits} bits (F+P+C − F+P)", ClaimKind.Gain, fqn, rows["F+P"]),
                new($"FQN over Jacob et al. at {bits} bits (F+P+C − none)", ClaimKind.Gain, fqn, rows["baseline"]),
            };
            if (bits == 8) claims.Add(new("8-bit over 4-bit (FQN)", ClaimKind.Gain, fqn, ablation[4]["F+P+C"]));
            tables.Add(new($"table2{(bits == 4 ? "a" : "b")}", $"Table 2{(bits == 4 ? "a" : "b")}: F, P, C at {bits} bits (RetinaNet ResNet-18)",
                "F: batch norm folded with frozen EMA statistics; P: percentile activation ranges; C: per-channel weights. " +
                "Without F, batch statistics are folded (and the EMA updated); without P, activation ranges are EMA of min/max; without C, weights per tensor.",
                rows.Values.ToList(), claims));
        }

        // Table 1: every detector family and backbone, FP32 and FQN's INT4; ResNet-18 RetinaNet is the shared model.
        var t1Rows = new List<PlanRow>();
        var t1Claims = new List<PlanClaim>();
        foreach (string detector in new[] { "retinanet", "faster-rcnn" })
            foreach (string backbone in budget.Table1Backbones)
            {
                bool main = detector == "retinanet" && backbone == "resnet18";
                var f = main ? Main : Float(detector, backbone, budget.Table1FloatSteps);
                string name = $"{Commands.RunCommand.Title(detector)} {backbone}";
                var fp = new PlanRow($"{name} FP32", [f], $"t1.{detector}.{backbone}.fp32");
                var q = main ? ablation[4]["F+P+C"] with { Label = $"{name} INT4", PaperKey = $"t1.{detector}.{backbone}.int4" }
                             : new PlanRow($"{name} INT4", [Quant(f, Fqn(4), 8, 0, evalEvery: 0)], $"t1.{detector}.{backbone}.int4");
                t1Rows.Add(fp);
                t1Rows.Add(q);
                t1Claims.Add(new($"{name}: INT4 − FP32", ClaimKind.Delta, q, fp));
            }
        tables.Insert(0, new("table1", "Table 1: FP32 and 4-bit FQN, RetinaNet (a) and Faster R-CNN (b)",
            $"CPU scale: backbones at width {budget.Width}, FPN 64 channels, {budget.ImageSize}-px images; the other detectors train {budget.Table1FloatSteps} float steps " +
            $"(the shared ResNet-18 RetinaNet {budget.MainFloatSteps}).", t1Rows, t1Claims));

        // Table 3: F for the whole fine-tuning vs batch statistics frozen only for the last N steps (Krishnamoorthi).
        foreach (int bits in new[] { 4, 8 })
        {
            var whole = ablation[bits]["F+P+C"];
            var lastN = Row($"P+C, BN frozen for the last {budget.FreezeLastSteps} steps",
                new QuantRecipe { Name = $"P+C freeze-last-{budget.FreezeLastSteps}", F = false, FreezeBnLastSteps = budget.FreezeLastSteps, Bits = bits },
                seeds, $"t3.{bits}.lastN");
            tables.Add(new($"table3-{bits}bit", $"Table 3: F throughout vs only the last N steps, {bits} bits",
                $"N = {budget.FreezeLastSteps} of {budget.FineTuneSteps} fine-tuning steps.", [whole with { Label = "F (whole fine-tuning)" }, lastN],
                [new($"F throughout over last-{budget.FreezeLastSteps} freezing at {bits} bits", ClaimKind.Gain, whole, lastN)]));
        }

        // Table 4: γ of the percentile calibration.
        var g999 = ablation[4]["F+P+C"] with { Label = "γ = 0.999" };
        var g9973 = Row("γ = 0.9973", Fqn(4) with { Name = "FQN γ=0.9973", Gamma = 0.9973 }, 1, "t4.0.9973");
        var g9545 = Row("γ = 0.9545", Fqn(4) with { Name = "FQN γ=0.9545", Gamma = 0.9545 }, 1, "t4.0.9545");
        tables.Add(new("table4", "Table 4: the calibration percentile γ (4 bits)", "γ = 0.999, 0.9973 (3σ of a normal), 0.9545 (2σ).",
            [g999, g9973, g9545],
            [new("γ = 0.999 (the paper's choice) over 0.9973", ClaimKind.Gain, g999, g9973), new("γ = 0.999 over 0.9545", ClaimKind.Gain, g999, g9545)]));

        // Table 5: other methods at 4 bits, with the FP32 model they start from.
        var fp32 = new PlanRow("FP32", [Main], "t5.fp32");
        var jacob = ablation[4]["baseline"] with { Label = "Jacob et al. (EMA)", PaperKey = "t5.jacob" };
        var white = Row($"whitepaper (per-channel, EMA, BN frozen last {budget.FreezeLastSteps})",
            new QuantRecipe { Name = "whitepaper", F = false, P = false, C = true, FreezeBnLastSteps = budget.FreezeLastSteps, Bits = 4 }, 1, "t5.whitepaper");
        var dorefa = Row("DoReFa-Net", QuantRecipe.DoReFa(4), 1, "t5.dorefa");
        var xnorEma = Row("XNOR-Net (EMA)", QuantRecipe.Xnor(), 1, "t5.xnor.ema");
        var xnorP = Row("XNOR-Net (percentiles)", QuantRecipe.Xnor() with { Name = "XNOR-P", P = true }, 1, "t5.xnor.percentile");
        var fqn4 = ablation[4]["F+P+C"] with { Label = "FQN", PaperKey = "t5.fqn" };
        var lsq = Row("LSQ (modern; learned steps)", QuantRecipe.Lsq(4), 1, "t5.lsq");
        tables.Add(new("table5", "Table 5: methods compared at 4 bits (RetinaNet ResNet-18)",
            "Every method fine-tunes the same float model with every op quantized; XNOR-Net is 1-bit.",
            [fp32, jacob, white, dorefa, xnorEma, xnorP, fqn4, lsq],
            [
                new("FQN over Jacob et al.", ClaimKind.Gain, fqn4, jacob),
                new("FQN over the whitepaper", ClaimKind.Gain, fqn4, white),
                new("FQN over DoReFa-Net", ClaimKind.Gain, fqn4, dorefa),
                new("FQN over XNOR-Net (EMA)", ClaimKind.Gain, fqn4, xnorEma),
                new("FQN's loss ≥ 3.8× smaller than Jacob et al.'s ((FP32 − Jacob) / (FP32 − FQN))", ClaimKind.RatioAtLeast, fp32, jacob, fqn4, Bound: 3.8),
                new("LSQ − FQN", ClaimKind.Delta, lsq, fqn4),
            ]));

        // The batch-size question: does F's gain grow when the batch statistics come from 2 images instead of 8?
        var fqnB2 = Row("F+P+C, batch 2", Fqn(4), seeds, "b.2.fqn", batch: 2);
        var pcB2 = Row("P+C, batch 2", Ablation(4, "P+C"), seeds, "b.2.pc", batch: 2);
        var fqnB8 = ablation[4]["F+P+C"] with { Label = "F+P+C, batch 8" };
        var pcB8 = ablation[4]["P+C"] with { Label = "P+C, batch 8" };
        tables.Add(new("batch", "The batch-size question: F at fine-tuning batch 2 and 8 (4 bits)",
            "The paper's case for F is detection's small per-GPU batches, whose statistics are noisy. The learning rate and the step count are the same " +
            "at both batch sizes, and the n_cal calibration batches are of the fine-tuning's size.",
            [fqnB2, pcB2, fqnB8, pcB8],
            [
                new("F's gain at batch 2", ClaimKind.Gain, fqnB2, pcB2),
                new("F's gain at batch 8", ClaimKind.Gain, fqnB8, pcB8),
                new("F's gain larger at batch 2 than at 8", ClaimKind.Gain, fqnB2, pcB2, fqnB8, pcB8),
            ]));
        Tables = tables;

        ProbeCell = (QuantCell)ablation[4]["P+C"].Cells[0];
        TrainedRanges = new RangeCell(Main, null);
        ImageNetRanges = new RangeCell(null, Onnx.OnnxBackbone.ResNet18ImageNetName);
        Curves = [.. new[] { jacob, white, dorefa, xnorEma, xnorP, fqn4, lsq }.Select(r => (r.Label, (QuantCell)r.Cells[0]))];

        var all = new List<CellSpec>();
        var seen = new HashSet<string>();
        void Add(CellSpec c)
        {
            foreach (var d in c.DependsOn) Add(d);
            if (seen.Add(c.Id)) all.Add(c);
        }
        Add(Main);
        foreach (var t in Tables) foreach (var row in t.Rows) foreach (var c in row.Cells) Add(c);
        Add(TrainedRanges);
        Add(ImageNetRanges);
        // Float models before fine-tunings: the shared model first, and a stopped run has its float models done early.
        Cells = [.. all.Where(c => c is FloatCell), .. all.Where(c => c is not FloatCell)];
    }

    private FloatCell Float(string detector, string backbone, int steps) =>
        new(detector, backbone, Budget.Width, Data, steps, 0, Budget.CheckpointEvery);

    private QuantRecipe Fqn(int bits) => Finish(QuantRecipe.Fqn(bits));

    private QuantRecipe Ablation(int bits, string name) => Finish(QuantRecipe.Ablation(bits).Single(r => r.Name == name));

    private QuantRecipe Finish(QuantRecipe r) => (r with { Steps = Budget.FineTuneSteps, CalibrationBatches = Budget.CalibrationBatches }).Validated();

    /// <summary>
    /// A fine-tuning cell of <paramref name="f"/>. The main model's 4-bit cells evaluate every K steps, all of them: a row
    /// that Table 5 (Figure 4's curves) shares with Table 2 must be one configuration.
    /// </summary>
    private QuantCell Quant(FloatCell f, QuantRecipe recipe, int batch, ulong seed, int? evalEvery = null, string? probe = null) =>
        new(f, Finish(recipe), batch, seed, evalEvery ?? (f == Main && recipe.EffectiveBits <= 4 ? Budget.EvalEvery : 0), probe);

    private PlanRow Row(string label, QuantRecipe recipe, int seeds, string paperKey, int batch = 8, string? probe = null) =>
        new(label, Enumerable.Range(0, seeds).Select(s => (CellSpec)Quant(Main, recipe, batch, (ulong)s, probe: probe)).ToList(), paperKey);
}
