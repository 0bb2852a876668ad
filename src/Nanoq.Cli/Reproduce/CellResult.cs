using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Nanoq.Cli.Reproduce;

/// <summary>
/// What a finished cell leaves in <c>cells/&lt;id&gt;.json</c>: its configuration, the 12 COCO numbers (pycocotools'
/// order, fractions as <see cref="Coco.Evaluation.CocoStats"/>; empty for a cell that evaluates nothing), its wall time,
/// and whatever else a figure needs (<see cref="Curve"/>, <see cref="Series"/>). A training cell also records the
/// learning-rate scale it finished with (1, or less after a divergence: <see cref="CellRunner"/>) and its model's folder
/// relative to <c>cells/</c>, where the cells that start from it load it. The file's existence is the mark of a finished
/// cell: it is written atomically, last.
/// </summary>
public sealed record CellResult(string Id, string Kind, string Label, JsonObject Config, double[] Stats, double WallSeconds,
                                List<CurvePoint> Curve, Dictionary<string, double[]> Series, double LrScale = 1, string? ModelDir = null)
{
    /// <summary>AP in points (0–100), the number the tables compare (derived, not stored).</summary>
    [JsonIgnore]
    public double Ap => Stats.Length > 0 ? 100 * Stats[0] : double.NaN;
}
