using BenchmarkDotNet.Running;

// `--quick`: one timed evaluation without BenchmarkDotNet, for a fast sanity check of the numbers.
if (args.Contains("--quick"))
{
    var (gt, dts) = Nanoq.Coco.Benchmarks.SyntheticEvalData.Make(5000, 100, 1);
    Console.WriteLine($"{gt.Images.Count} images, {gt.Annotations.Count} ground truths, {dts.Count} detections");
    for (int i = 0; i < 3; i++)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var eval = Nanoq.Coco.Evaluation.CocoEvaluator.Evaluate(gt, dts);
        Console.WriteLine($"run {i}: {sw.Elapsed.TotalMilliseconds:F0} ms, AP {eval.Stats.AP:F4}");
    }
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(Nanoq.Coco.Benchmarks.EvaluationBenchmark).Assembly).Run(args);
