namespace Nanoq.Nn.Training;

/// <summary>One optimizer step of a training run: the total loss, each loss term (in the run's term order) and the learning rate.</summary>
public sealed record TrainPoint(int Step, float Loss, float[] Terms, float Lr);
