using BenchmarkDotNet.Attributes;
using Nanoq.Coco.Evaluation;

namespace Nanoq.Coco.Benchmarks;

/// <summary>COCO bbox evaluation (evaluate + accumulate + summarize) of 5,000 images × 100 detections.</summary>
[MemoryDiagnoser]
[MedianColumn]
[ShortRunJob]
public class EvaluationBenchmark
{
    private CocoDataset _gt = null!;
    private List<CocoResult> _dts = null!;

    [GlobalSetup]
    public void Setup() => (_gt, _dts) = SyntheticEvalData.Make(images: 5000, detectionsPerImage: 100, seed: 1);

    [Benchmark]
    public double Evaluate5000x100() => CocoEvaluator.Evaluate(_gt, _dts).Stats.AP;
}
