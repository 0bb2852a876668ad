using System.Diagnostics;
using System.Text.Json;
using Nanoq.Cli.Pipeline;
using Nanoq.Cli.Reproduce;
using Nanoq.Cli.Terminal;
using Nanoq.IO;

namespace Nanoq.Cli.Commands;

/// <summary>
/// <c>nanoq reproduce</c>: the paper's tables and figures in one resumable command (DESIGN.md §12). The plan is a list
/// of cells keyed by their configuration (<see cref="ReproducePlan"/>); finished cells are loaded, the rest run in
/// order, each leaving its result file when done, so a stopped run continues where it stopped and never recomputes a
/// finished cell. Then the figures, report.md and report.json are written from all the cells.
/// </summary>
public static class ReproduceCommand
{
    internal static readonly CliCommand Definition = new("reproduce",
        """
        Usage: nanoq reproduce [--out DIR] [--budget quick|default|full] [--seeds N] [--plan]
        """,
        """
        Runs the paper's experiments at CPU scale and writes DIR/report.md, DIR/report.json and the figures as PNG:
        Table 1 (RetinaNet and Faster R-CNN, ResNet-18/34/50 and MobileNetV2, FP32 vs 4-bit FQN), Table 2 (F, P, C at 4
        and 8 bits), Table 3 (F throughout vs frozen for the last N steps), Table 4 (γ), Table 5 (Jacob et al., the
        whitepaper, DoReFa, XNOR, FQN, LSQ), the batch-size question (F at batch 2 and 8), Figure 1 (batch-norm
        statistics without F), Figure 2 (per-channel weight ranges) and Figure 4 (AP along fine-tuning). Each table
        puts the paper's numbers beside Nanoq's and says for each claim whether it reproduced. The plan and its
        estimated time are printed first; every finished cell is kept under DIR/cells, and the same command resumes.
        """,
        spec =>
        {
            spec.Text("--out", "DIR", "the output folder (default runs/reproduce-<budget>)");
            spec.Text("--budget", "NAME", "quick (a minute: tiny data, a handful of steps), default (about an hour on 2 cores) or full (hours)");
            spec.Int("--seeds", "N", "seeds of the rows F's claims rest on (default 2 quick, 3 otherwise)", 1, 20);
            spec.Flag("--plan", "print the plan (cells, estimated times) and exit");
        },
        (cl, stdout, stderr) =>
        {
            var budget = Budget.Parse(cl.Get("--budget") ?? "default");
            var plan = new ReproducePlan(budget, cl.Int("--seeds", budget.Seeds));
            string dir = cl.Get("--out") ?? Path.Combine("runs", $"reproduce-{budget.Name}");
            using var folder = new RunFolder(dir);
            var store = new CellStore(dir);
            var results = new Dictionary<string, CellResult>();
            foreach (var c in plan.Cells)
                if (store.TryLoad(c) is { } r) results[c.Id] = r;
            var toRun = plan.Cells.Where(c => !results.ContainsKey(c.Id)).ToList();
            stderr.WriteLine($"nanoq reproduce: {budget.Describe()}; {plan.Seeds} seed(s) for F's rows");
            foreach (var c in plan.Cells)
                stderr.WriteLine($"  {(results.ContainsKey(c.Id) ? "done" : PlanProgress.Clock(CostModel.Seconds(c))),8}  {c.Label}  ({c.Id})");
            stderr.WriteLine($"plan: {plan.Cells.Count} cells, {results.Count} finished, {toRun.Count} cells to run, estimated {PlanProgress.Clock(toRun.Sum(CostModel.Seconds))}");
            if (cl.Has("--plan")) return CommandErrors.Ok;

            folder.BeginWriting(stderr);
            using var interrupt = new Interrupt();
            var data = DataSplits.Resolve(plan.Data.Name, Path.Combine(dir, "data"), stderr, plan.Data.TrainImages, plan.Data.ValImages, plan.Data.ImageSize, plan.Data.Seed);
            var runner = new CellRunner(store, results, data, stderr, interrupt.Token);
            var progress = new PlanProgress(stderr, toRun);
            foreach (var cell in toRun)
            {
                progress.Start(cell);
                var clock = Stopwatch.StartNew();
                var result = runner.Run(cell, () => clock.Elapsed.TotalSeconds);
                store.Save(result);
                results[cell.Id] = result;
                progress.Finish(cell);
            }

            var figures = new List<(string, IReadOnlyList<string>)>
            {
                ($"Figure 1: {ReproducePlan.ProbeLayer}'s β, batch mean and batch variance (channel 0) over 4-bit fine-tuning without F ({plan.ProbeCell.Label}).",
                 Figures.BatchNormStatistics(dir, results[plan.ProbeCell.Id])),
                ("Figure 2: per-channel weight-range ratios in dB, the trained detector against the ImageNet ResNet-18.",
                 [Figures.WeightRanges(dir, results[plan.TrainedRanges.Id], results[plan.ImageNetRanges.Id])]),
                ($"Figure 4: AP every {budget.EvalEvery} fine-tuning steps from the calibrated model (step 0), Table 5's methods (seed 0).",
                 [Figures.ApCurves(dir, plan.Curves.Select(c => (c.Method, results[c.Cell.Id])).ToList())]),
            };
            string machine = $"{Environment.ProcessorCount} threads, {Environment.OSVersion}, .NET {Environment.Version}";
            var report = new ReportWriter(plan, results, machine);
            AtomicFile.WriteAllText(Path.Combine(dir, "report.md"), report.Markdown(figures));
            AtomicFile.WriteAllText(Path.Combine(dir, "report.json"), report.Json(figures).ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            stdout.WriteLine($"report: {Path.Combine(dir, "report.md")} ({plan.Cells.Count} cells, {toRun.Count} run now)");
            return CommandErrors.Ok;
        },
        "Ctrl-C (or SIGTERM) checkpoints the running cell; the same command resumes it and skips every finished cell.");

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) => Definition.Run(args, stdout, stderr);
}
