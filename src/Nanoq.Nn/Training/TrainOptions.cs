namespace Nanoq.Nn.Training;

/// <summary>
/// A training or fine-tuning schedule: <see cref="Steps"/> SGD steps of <see cref="BatchSize"/> images, linear
/// warm-up then ×0.1 at each milestone (fractions of the steps), or a constant LR when <see cref="Milestones"/> is
/// empty and <see cref="WarmupSteps"/> is 0 (the paper's fine-tuning). A checkpoint every
/// <see cref="CheckpointEvery"/> steps, at the end, and on Ctrl-C.
/// </summary>
public sealed record TrainOptions
{
    public int Steps { get; init; } = 3000;
    public int BatchSize { get; init; } = 8;
    public float Lr { get; init; } = 0.02f;
    public float Momentum { get; init; } = 0.9f;
    public float WeightDecay { get; init; } = 1e-4f;
    public int WarmupSteps { get; init; } = 200;
    public float[] Milestones { get; init; } = [0.7f, 0.9f];
    public int CheckpointEvery { get; init; } = 250;
    public double FlipProbability { get; init; } = 0.5;
    public ulong Seed { get; init; }

    /// <summary>The learning rate by step: constant, or linear warm-up (from 0.001×) then ×0.1 at each milestone.</summary>
    public Optim.LrSchedule Schedule() =>
        WarmupSteps == 0 && Milestones.Length == 0
            ? new Optim.LrSchedule.Constant(Lr)
            : new Optim.LrSchedule.WarmupStep(Lr, WarmupSteps, 0.001f, Milestones.Select(m => (int)(m * Steps)).ToArray());
}
