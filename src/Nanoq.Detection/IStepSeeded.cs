namespace Nanoq.Detection;

/// <summary>
/// A detector whose loss draws random samples (Faster R-CNN's anchor and RoI samplers). The trainer tells it the step
/// before each loss (<see cref="DetectorTraining.Train"/>), and it draws from a generator derived from its seed and
/// that step — so the draws are a function of the step alone, and an interrupted and resumed run reaches the same
/// weights as an unbroken one without the generator's state in the checkpoint.
/// </summary>
public interface IStepSeeded
{
    /// <summary>The training step the next loss belongs to (0 until set).</summary>
    int Step { get; set; }
}
