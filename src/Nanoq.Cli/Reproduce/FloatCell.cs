using System.Text.Json.Nodes;

namespace Nanoq.Cli.Reproduce;

/// <summary>
/// Float training of one detector, then its evaluation (the FP32 columns of Table 1, and the model Tables 2–5 fine-tune).
/// Its checkpoint stays in the cell's folder, where the fine-tuning cells load it from.
/// </summary>
public sealed record FloatCell(string Detector, string Backbone, float Width, DataSpec Data, int Steps, ulong Seed, int CheckpointEvery) : CellSpec
{
    public override string Kind => "float";

    public override string Label => $"{Commands.RunCommand.Title(Detector)} {Backbone} FP32";

    public override IEnumerable<CellSpec> DependsOn => [];

    public override JsonObject Config() => new()
    {
        ["detector"] = Detector, ["backbone"] = Backbone, ["width"] = Width, ["data"] = Node(Data), ["steps"] = Steps, ["seed"] = Seed,
    };
}
