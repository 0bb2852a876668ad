namespace Nanoq.Cli.Reproduce;

/// <summary>
/// A cell's expected wall time before it runs, for the printed plan and the ETA. Training steps were measured on the
/// development machine (2 cores, 2026-12-06; steady state over steps 125–250 of <c>nanoq train</c>, 128 px, batch 8,
/// width 0.25): RetinaNet 0.070 s (ResNet-18), 0.082 (34), 0.110 (50), 0.094 (MobileNetV2); Faster R-CNN 0.121, 0.141,
/// 0.286, 0.144; a 4-bit fine-tuning step costs what a float step does (0.068 s measured).
/// A step scales about linearly with the image side here (the main job's 0.087 s at 160 px is 0.070 × 160/128: fixed
/// per-step costs make it less than quadratic) and with the batch beyond a fixed part; evaluating an image costs
/// ≈ 0.09 of a step. <see cref="PlanProgress"/> rescales these by the measured times as cells finish.
/// </summary>
public static class CostModel
{
    private const double CellOverhead = 3, EvalPerImageInSteps = 0.09, FixedShareOfStep = 0.2;

    public static double Seconds(CellSpec cell) => cell switch
    {
        FloatCell f => f.Steps * Step(f, 8) + Eval(f) + CellOverhead,
        QuantCell q => q.Recipe.Steps * Step(q.Float, q.Batch) + q.Recipe.CalibrationBatches * Step(q.Float, 8) / 3
                       + Eval(q.Float) * (1 + (q.EvalEvery > 0 ? q.Recipe.Steps / q.EvalEvery : 0)) + CellOverhead,
        _ => 1,
    };

    /// <summary>Seconds a training step: the measured 128-px cost, scaled by the image side and by the batch beyond a fixed share.</summary>
    private static double Step(FloatCell f, int batch) =>
        StepAt128(f.Detector, f.Backbone) * f.Data.ImageSize / 128.0 * (FixedShareOfStep + (1 - FixedShareOfStep) * batch / 8.0);

    private static double Eval(FloatCell f) => EvalPerImageInSteps * f.Data.ValImages * Step(f, 8);

    private static double StepAt128(string detector, string backbone) => (detector, backbone) switch
    {
        ("retinanet", "resnet34") => 0.082,
        ("retinanet", "resnet50") => 0.110,
        ("retinanet", "mobilenet_v2") => 0.094,
        ("faster-rcnn", "resnet18") => 0.121,
        ("faster-rcnn", "resnet34") => 0.141,
        ("faster-rcnn", "resnet50") => 0.286,
        ("faster-rcnn", "mobilenet_v2") => 0.144,
        _ => 0.070,
    };
}
