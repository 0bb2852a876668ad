namespace Nanoq.Cli.Reproduce;

/// <summary>One point of Figure 4: the 12 COCO numbers after <paramref name="Step"/> fine-tuning steps.</summary>
public sealed record CurvePoint(int Step, double[] Stats);
