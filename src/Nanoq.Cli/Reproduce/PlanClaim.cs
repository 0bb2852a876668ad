namespace Nanoq.Cli.Reproduce;

/// <summary>
/// A difference the paper argues from, between rows of the tables: the effect is AP(A) − AP(B), or, with C and D, the
/// difference of two such gains (A − B) − (C − D), paired seed by seed (F's gain at batch 2 against F's gain at batch 8).
/// <see cref="ClaimKind.RatioAtLeast"/> reads (A − B) / (A − C) ≥ <see cref="Bound"/>: the abstract's "the mAP loss of
/// FQN is more than 3.8× less than that of existing methods" with A = FP32, B = the existing method, C = FQN.
/// </summary>
public sealed record PlanClaim(string Text, ClaimKind Kind, PlanRow A, PlanRow B, PlanRow? C = null, PlanRow? D = null, double Bound = 0);
