using System.Text.Json.Nodes;

namespace Nanoq.Cli.Reproduce;

/// <summary>
/// Figure 2's data: the per-channel weight-range ratios 20·log10(R / r_c) in dB of every conv layer (batch norm folded),
/// of a float cell's trained detector or, with <see cref="Float"/> null, of the named backbone's own weights
/// (<c>resnet18-imagenet</c>: the ImageNet-trained ResNet-18).
/// </summary>
public sealed record RangeCell(FloatCell? Float, string? Backbone) : CellSpec
{
    public override string Kind => "ranges";

    public override string Label => Float is null ? $"weight ranges {Backbone}" : $"weight ranges {Float.Label}";

    public override IEnumerable<CellSpec> DependsOn => Float is null ? [] : [Float];

    public override JsonObject Config() => new() { ["float"] = Float?.Id, ["backbone"] = Backbone };
}
