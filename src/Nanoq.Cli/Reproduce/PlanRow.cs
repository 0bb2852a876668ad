namespace Nanoq.Cli.Reproduce;

/// <summary>
/// One row of a table: its label as the paper writes it, its cells (one per seed; a row of one cell is one seed), and the
/// key of the paper's number for it in <see cref="PaperNumbers"/>.
/// </summary>
public sealed record PlanRow(string Label, IReadOnlyList<CellSpec> Cells, string PaperKey);
