namespace Nanoq.Cli.Bench;

/// <summary>One workload's timed runs (ms), the managed bytes they allocated and the gen-2 collections during them.</summary>
public sealed record BenchMeasurement(double[] Times, long Allocated, int Gen2Collections);
