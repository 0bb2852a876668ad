using Nanoq.Detection;
using Nanoq.Cli.Pipeline;
using Nanoq.Cli.Reports;
using Nanoq.Cli.Terminal;
using Nanoq.Coco.Evaluation;
using Nanoq.Quant;

namespace Nanoq.Cli.Commands;

/// <summary>
/// <c>nanoq ablation</c>: the paper's Table 2 (all eight combinations of F, P, C) and its Table 5 baselines (DoReFa-Net,
/// XNOR-Net), each fine-tuned from the same float model with the same schedule and evaluated — one loop over recipes.
/// </summary>
public static class AblationCommand
{
    internal static readonly CliCommand Definition = new("ablation",
        """
        Usage: nanoq ablation [--out DIR] [--bits 4] [--steps 600] [--baselines] [--data NAME|DIR]
        """,
        """
        Fine-tunes the float detector of DIR (from nanoq train) with each of the 8 combinations of F, P, C at K bits
        (the paper's Table 2; "baseline" is none of them: Jacob et al.), and with --baselines also DoReFa-Net and XNOR-Net
        (Table 5), then prints one table of the 12 COCO numbers. Each row's checkpoint is kept, so a rerun resumes.
        """,
        spec =>
        {
            spec.Text("--out", "DIR", "the run folder (default runs/shapes)");
            QuantizeCommand.DeclareDetector(spec);
            spec.Int("--bits", "K", "2..8 (default 4)", 2, 8);
            spec.Int("--steps", "N", "fine-tuning steps of each row (default 600)", 0, 10_000_000);
            spec.Flag("--baselines", "also DoReFa-Net and XNOR-Net (Table 5)");
            spec.Text("--data", "NAME|DIR", "as for nanoq quantize");
            DataFileOptions.Declare(spec);
            TrainCommand.DeclareSchedule(spec);
        },
        (cl, stdout, stderr) =>
        {
            using var run = QuantizeCommand.OpenRun(cl);
            run.BeginWriting(stderr);
            var info = run.LoadModelInfo();
            int bits = cl.Int("--bits", 4);
            int steps = cl.Int("--steps", 600);
            var schedule = TrainCommand.Schedule(cl);
            var recipes = QuantRecipe.Ablation(bits).Select(r => r with { Steps = steps }).ToList();
            if (cl.Has("--baselines")) recipes.AddRange([QuantRecipe.DoReFa(bits) with { Steps = steps }, QuantRecipe.Xnor() with { Steps = steps }]);
            using var interrupt = new Interrupt();
            var data = QuantizeCommand.DataFor(run, cl, stderr, schedule.Seed);
            var rows = new List<(string, CocoStats)>();
            foreach (var r in recipes)
            {
                var (model, _, _) = QuantStages.FineTune(run, data, r, schedule, run.QuantCheckpoint(r), stderr, interrupt.Token);
                var result = Stages.Evaluate(run, RunFolder.Label(r), data, model.Config, model.Detect, stderr, interrupt.Token);
                rows.Add(($"{r.Name} ({r.EffectiveBits}-bit)", result.Stats));
            }
            stdout.WriteLine($"{info.Config.Backbone} {RunCommand.Title(info.Detector)}, {steps} fine-tuning steps a row, on {data.Description}");
            ResultsTable.Write(stdout, rows);
            return CommandErrors.Ok;
        });

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) => Definition.Run(args, stdout, stderr);
}
