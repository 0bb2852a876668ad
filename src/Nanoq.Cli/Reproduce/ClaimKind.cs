namespace Nanoq.Cli.Reproduce;

/// <summary>What a claim asserts of its effect: a gain (effect &gt; 0), a ratio of at least a bound, or only a delta to show.</summary>
public enum ClaimKind { Gain, RatioAtLeast, Delta }
