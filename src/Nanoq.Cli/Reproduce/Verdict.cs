namespace Nanoq.Cli.Reproduce;

/// <summary>How a claim fared: the effect in AP points, its standard error, and the verdict.</summary>
/// <param name="Effect">the mean effect (AP points; the ratio for <see cref="ClaimKind.RatioAtLeast"/>)</param>
/// <param name="StandardError">of the mean effect, from the seeds' spread (or the plan's noise estimate for single-seed rows)</param>
/// <param name="Text">"reproduced", "not reproduced", "within noise", or "delta" for a difference the paper makes no claim about</param>
public sealed record Verdict(double Effect, double StandardError, string Text);
