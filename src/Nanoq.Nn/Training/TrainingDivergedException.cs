namespace Nanoq.Nn.Training;

/// <summary>A loss term became NaN or ±∞; the message names the run, the step and the term, and where the last finite state was saved.</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);
