using Nanoq.Coco;
using Nanoq.Coco.Evaluation;

namespace Nanoq.Cli.Commands;

/// <summary><c>nanoq eval --gt GT.json --results DT.json [--json] [--per-category]</c>: COCO bbox evaluation.</summary>
public static class EvalCommand
{
    public const string Help =
        """
        Usage: nanoq eval --gt GT.json --results DT.json [--json] [--per-category]
               nanoq eval --model float|fake-quant|integer [--out DIR] [--bits 4] [--recipe ...] [--data NAME|DIR] [--json]

        COCO bbox evaluation, the same numbers as pycocotools' COCOeval(iouType="bbox").

          --gt FILE         ground truth: a COCO instances json (images, annotations, categories)
          --results FILE    detections: a COCO results json, [{"image_id", "category_id", "bbox": [x, y, w, h], "score"}, ...]
          --json            print one json object with keys AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl
          --per-category    also print AP per category (not with --json)
          --model KIND      evaluate a model of the run folder --out (default runs/shapes) on the val split instead:
                            float, fake-quant (the recipe's fine-tuned checkpoint) or integer (its .nqm file)
          --help            this text

        Exit codes: 0 ok, 2 bad usage or bad input (one line on stderr naming the file and the problem).
        """;

    private static readonly HashSet<string> Valued = ["--gt", "--results", "--model", "--out", "--bits", "--recipe", "--data"];
    private static readonly HashSet<string> Flags = ["--json", "--per-category", "--help", "-h", "--no-f", "--no-p", "--no-c"];

    private static int EvaluateModel(CommandLine cl, TextWriter stdout, TextWriter stderr)
    {
        var run = new Pipeline.RunFolder(cl.Get("--out") ?? Path.Combine("runs", "shapes"));
        var (detect, config, label) = Pipeline.StoredModels.Open(run, cl.Required("--model"), QuantizeCommand.Recipe(cl));
        var data = Pipeline.DataSplits.Resolve(cl.Get("--data") ?? QuantizeCommand.DataOf(run), Path.Combine("runs", "data"), stderr);
        var result = Pipeline.Stages.Evaluate(run, label, data, config, detect, stderr);
        if (cl.Has("--json")) stdout.WriteLine(result.ToJson());
        else stdout.Write(result.Format());
        return CommandErrors.Ok;
    }

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) =>
        CommandErrors.Run("eval", stderr, () =>
        {
            var cl = new CommandLine(args, Valued, Flags);
            if (cl.Has("--help") || cl.Has("-h"))
            {
                stdout.Write(Help);
                return CommandErrors.Ok;
            }
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
        });
}
