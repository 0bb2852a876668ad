namespace Nanoq.Cli.Reproduce;

/// <summary>One of the paper's tables as the plan runs it: its rows, the claims computed from them, and what was changed for CPU scale.</summary>
public sealed record PlanTable(string Key, string Title, string Note, IReadOnlyList<PlanRow> Rows, IReadOnlyList<PlanClaim> Claims);
