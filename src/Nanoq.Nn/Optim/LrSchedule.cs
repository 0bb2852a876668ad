namespace Nanoq.Nn.Optim;

/// <summary>
/// Learning rate as a function of the step (0-based). <see cref="WarmupStep"/>: linear warm-up from
/// base·warmupFactor to base over the first warmupSteps, then ×gamma at each milestone (Detectron's
/// WarmupMultiStepLR). <see cref="Constant"/>: the paper's fine-tuning schedule (a fixed LR, 0.1× the training LR).
/// </summary>
public abstract record LrSchedule
{
    public abstract float At(int step);

    public sealed record Constant(float Lr) : LrSchedule
    {
        public override float At(int step) => Lr;
    }

    public sealed record WarmupStep(float BaseLr, int WarmupSteps, float WarmupFactor, int[] Milestones, float Gamma = 0.1f) : LrSchedule
    {
        public override float At(int step)
        {
            float f = 1f;
            if (step < WarmupSteps)
            {
                float alpha = (float)step / WarmupSteps;
                f = WarmupFactor * (1f - alpha) + alpha;
            }
            int passed = Milestones.Count(m => step >= m);
            return BaseLr * f * MathF.Pow(Gamma, passed);
        }
    }
}
