namespace Nanoq.Cli.Reproduce;

/// <summary>
/// A cell's expected wall time before it runs, for the plan's estimate and its ETA. Anchored on measured runs on the
/// development machine (2 cores, README): a ResNet-18 (×0.25) RetinaNet step at 160 px and batch 8 takes ≈ 0.087 s,
/// a fine-tuning step about the same, evaluating 500 val images ≈ 3 s; cost scales with pixels and batch, by the
/// backbone's depth and by ≈ 1.5× for Faster R-CNN. The factors are estimates; <see cref="PlanProgress"/> rescales them
/// by the ratio of measured to estimated time as cells finish.
/// </summary>
public static class CostModel
{
    private const double StepAt160 = 0.087, EvalPerImageAt160 = 0.006, CellOverhead = 2;

    public static double Seconds(CellSpec cell) => cell switch
    {
        FloatCell f => f.Steps * Step(f, 8) + Eval(f) + CellOverhead,
        QuantCell q => q.Recipe.Steps * Step(q.Float, q.Batch) + q.Recipe.CalibrationBatches * Step(q.Float, 8) / 3
                       + Eval(q.Float) * (1 + (q.EvalEvery > 0 ? q.Recipe.Steps / q.EvalEvery : 0)) + CellOverhead,
        _ => 1,
    };

    private static double Step(FloatCell f, int batch) =>
        StepAt160 * Pixels(f) * batch / 8.0 * Backbone(f.Backbone) * (f.Detector == "faster-rcnn" ? 1.5 : 1);

    private static double Eval(FloatCell f) => EvalPerImageAt160 * f.Data.ValImages * Pixels(f) * Backbone(f.Backbone);

    private static double Pixels(FloatCell f) => f.Data.ImageSize * f.Data.ImageSize / (160.0 * 160.0);

    private static double Backbone(string name) => name switch
    {
        "resnet34" => 1.7,
        "resnet50" => 2.4,
        "mobilenet_v2" => 1.3,
        _ => 1,
    };
}
