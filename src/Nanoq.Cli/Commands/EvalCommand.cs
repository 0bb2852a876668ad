using Nanoq.Coco;
using Nanoq.Coco.Evaluation;

namespace Nanoq.Cli.Commands;

/// <summary><c>nanoq eval --gt GT.json --results DT.json [--json] [--per-category]</c>: COCO bbox evaluation.</summary>
public static class EvalCommand
{
    internal static readonly CliCommand Definition = new("eval",
        """
        Usage: nanoq eval --gt GT.json --results DT.json [--json] [--per-category]
               nanoq eval --model float|fake-quant|integer [--out DIR] [--bits 4] [--recipe ...] [--data NAME|DIR] [--json]
        """,
        """
        COCO bbox evaluation, the same numbers as pycocotools' COCOeval(iouType="bbox"): a results json against ground
        truth, or (--model) a model of the run folder --out on its val split.
        """,
        spec =>
        {
            spec.Text("--gt", "FILE", "ground truth: a COCO instances json (images, annotations, categories)");
            spec.Text("--results", "FILE", "detections: a COCO results json, [{\"image_id\", \"category_id\", \"bbox\": [x, y, w, h], \"score\"}, ...]");
            spec.Flag("--json", "print one json object with keys AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl");
            spec.Flag("--per-category", "also print AP per category (not with --json)");
            spec.Text("--model", "KIND", "evaluate a model of the run folder --out on the val split instead: float, fake-quant (the recipe's fine-tuned checkpoint) or integer (its .nqm file)");
            spec.Text("--out", "DIR", "the run folder, with --model (default runs/shapes)");
            spec.Text("--data", "NAME|DIR", "with --model: the data (default: the data the model was trained on if bundled, else shapes)");
            DataFileOptions.Declare(spec);
            QuantizeCommand.DeclareRecipe(spec);
        },
        Body,
        "Exit codes: 0 ok, 2 bad usage or bad input (one line on stderr naming the file and the problem).");

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) => Definition.Run(args, stdout, stderr);

    private static int EvaluateModel(CommandArgs cl, TextWriter stdout, TextWriter stderr)
    {
        var run = QuantizeCommand.OpenRun(cl);
        var (detect, config, label) = Pipeline.StoredModels.Open(run, cl.Required("--model"), QuantizeCommand.Recipe(cl));
        var data = QuantizeCommand.DataFor(run, cl, stderr);
        using var interrupt = new Terminal.Interrupt("stopping the evaluation after the current batch");
        var result = Pipeline.Stages.Evaluate(run, label, data, config, detect, stderr, interrupt.Token);
        if (cl.Has("--json")) stdout.WriteLine(result.ToJson());
        else stdout.Write(result.Format());
        return CommandErrors.Ok;
    }

    private static int Body(CommandArgs cl, TextWriter stdout, TextWriter stderr)
    {
        if (cl.Has("--model")) return EvaluateModel(cl, stdout, stderr);
        string gtPath = cl.Required("--gt"), resultsPath = cl.Required("--results");
        if (cl.Has("--json") && cl.Has("--per-category"))
            throw new UsageException("--per-category cannot be combined with --json");
        var gt = CocoDataset.Load(gtPath);
        var results = CocoResults.Load(resultsPath, gt);
        var eval = CocoEvaluator.Evaluate(gt, results, resultsPath);
        if (cl.Has("--json"))
        {
            stdout.WriteLine(eval.ToJson());
        }
        else
        {
            stdout.Write(eval.Format());
            if (cl.Has("--per-category"))
            {
                stdout.WriteLine();
                stdout.Write(eval.FormatPerCategory());
            }
        }
        return CommandErrors.Ok;
    }
}
