using Nanoq.Coco;
using Nanoq.Coco.Evaluation;

namespace Nanoq.Cli.Commands;

/// <summary><c>nanoq eval --gt GT.json --results DT.json [--json] [--per-category]</c>: COCO bbox evaluation.</summary>
public static class EvalCommand
{
    public const string Help =
        """
        Usage: nanoq eval --gt GT.json --results DT.json [--json] [--per-category]

        COCO bbox evaluation, the same numbers as pycocotools' COCOeval(iouType="bbox").

          --gt FILE         ground truth: a COCO instances json (images, annotations, categories)
          --results FILE    detections: a COCO results json, [{"image_id", "category_id", "bbox": [x, y, w, h], "score"}, ...]
          --json            print one json object with keys AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl
          --per-category    also print AP per category (not with --json)
          --help            this text

        Exit codes: 0 ok, 2 bad usage or bad input (one line on stderr naming the file and the problem).
        """;

    private static readonly HashSet<string> Valued = ["--gt", "--results"];
    private static readonly HashSet<string> Flags = ["--json", "--per-category", "--help", "-h"];

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) =>
        CommandErrors.Run("eval", stderr, () =>
        {
            var cl = new CommandLine(args, Valued, Flags);
            if (cl.Has("--help") || cl.Has("-h"))
            {
                stdout.Write(Help);
                return CommandErrors.Ok;
            }
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
