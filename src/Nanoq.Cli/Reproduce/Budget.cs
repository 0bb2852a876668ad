namespace Nanoq.Cli.Reproduce;

/// <summary>
/// How large <c>nanoq reproduce</c> runs the paper's experiments. The paper fine-tunes COCO-sized detectors on GPUs; a
/// budget is the CPU-scale stand-in, stated in the report: the bundled <c>shapes</c> data set at one image size, small
/// backbones (width multiplier <see cref="Width"/>), and step counts that fit the time.
/// <list type="bullet">
/// <item><c>quick</c>: a few dozen 64-px images and a handful of steps — every table and figure in about a minute, the
/// test of the machinery, not of the method (its numbers are near zero).</item>
/// <item><c>default</c>: about an hour on 2 cores — enough steps for the detectors to learn and for the F/P/C rows to
/// separate; the rows whose differences the paper argues from run several seeds.</item>
/// <item><c>full</c>: the larger CPU-scale plan (hours): the main job's data and step counts.</item>
/// </list>
/// </summary>
/// <param name="MainFloatSteps">float steps of the shared ResNet-18 RetinaNet that Tables 2–5 fine-tune</param>
/// <param name="Table1FloatSteps">float steps of Table 1's other detectors (fewer: there are seven of them)</param>
/// <param name="FineTuneSteps">fine-tuning steps of every row</param>
/// <param name="EvalEvery">Figure 4: an evaluation every K fine-tuning steps of the main model's 4-bit rows</param>
/// <param name="FreezeLastSteps">Table 3 and the whitepaper: batch-norm statistics frozen for the last N steps</param>
/// <param name="Seeds">default of --seeds: seeds of the rows whose differences are small (F's rows)</param>
/// <param name="Table1Backbones">the backbones of Table 1, for RetinaNet and Faster R-CNN alike</param>
public sealed record Budget(string Name, int TrainImages, int ValImages, int ImageSize, float Width, int MainFloatSteps,
                            int Table1FloatSteps, int FineTuneSteps, int EvalEvery, int FreezeLastSteps, int CalibrationBatches,
                            int Seeds, int CheckpointEvery, string[] Table1Backbones)
{
    public static readonly string[] Names = ["quick", "default", "full"];

    public static readonly string[] AllBackbones = ["resnet18", "resnet34", "resnet50", "mobilenet_v2"];

    /// <summary>The test's budget: every cell and figure, tiny (64 px, 48 images, ≤ 12 steps).</summary>
    public static Budget Quick { get; } = new("quick", TrainImages: 48, ValImages: 16, ImageSize: 64, Width: 0.25f, MainFloatSteps: 12,
        Table1FloatSteps: 4, FineTuneSteps: 6, EvalEvery: 3, FreezeLastSteps: 2, CalibrationBatches: 2, Seeds: 2, CheckpointEvery: 4,
        Table1Backbones: AllBackbones);

    /// <summary>
    /// About an hour on 2 cores (estimated from the main job's measured 0.087 s a RetinaNet step at 160 px, batch 8;
    /// <see cref="CostModel"/>, ≈ 57 min): 1200 train / 200 val images of 128 px, the shared float model 3000 steps,
    /// Table 1's other seven detectors 1500 steps each, 500 fine-tuning steps a row, F's rows with 3 seeds.
    /// </summary>
    public static Budget Default { get; } = new("default", TrainImages: 1200, ValImages: 200, ImageSize: 128, Width: 0.25f, MainFloatSteps: 3000,
        Table1FloatSteps: 1500, FineTuneSteps: 500, EvalEvery: 100, FreezeLastSteps: 150, CalibrationBatches: 20, Seeds: 3, CheckpointEvery: 100,
        Table1Backbones: AllBackbones);

    /// <summary>The main job's scale (3000 / 500 images of 160 px, 3000 float and 1500 fine-tuning steps): estimated 3 h 20 min.</summary>
    public static Budget Full { get; } = new("full", TrainImages: 3000, ValImages: 500, ImageSize: 160, Width: 0.25f, MainFloatSteps: 3000,
        Table1FloatSteps: 3000, FineTuneSteps: 1500, EvalEvery: 250, FreezeLastSteps: 500, CalibrationBatches: 20, Seeds: 3, CheckpointEvery: 250,
        Table1Backbones: AllBackbones);

    /// <summary>The budget of that name; anything else is a usage error naming the option.</summary>
    public static Budget Parse(string name) => name switch
    {
        "quick" => Quick,
        "default" => Default,
        "full" => Full,
        _ => throw new Commands.UsageException($"--budget must be one of {string.Join(", ", Names)}, got '{name}'"),
    };

    /// <summary>One line for the report and the plan.</summary>
    public string Describe() =>
        $"budget '{Name}': shapes, {TrainImages} train / {ValImages} val images of {ImageSize} px; backbones at width {Width}; " +
        $"shared ResNet-18 RetinaNet {MainFloatSteps} float steps, Table 1's other detectors {Table1FloatSteps}; {FineTuneSteps} fine-tuning steps a row " +
        $"(batch 8 unless stated, 0.1× LR, n_cal {CalibrationBatches}); Figure 4 evaluates every {EvalEvery} steps; last-N freezing N = {FreezeLastSteps}";
}
