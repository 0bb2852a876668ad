using System.Text.Json.Nodes;
using Nanoq.Quant;

namespace Nanoq.Cli.Reproduce;

/// <summary>
/// Calibration and fine-tuning of a float cell's model with one recipe, then its evaluation: one row (one seed) of
/// Tables 1–5. <see cref="Seed"/> drives the fine-tuning's data order, flips and calibration batches, so several seeds
/// from one float model measure how much a row moves by chance alone. <see cref="EvalEvery"/> &gt; 0 evaluates every K
/// steps along the way, from the calibrated model at step 0 (Figure 4's curves); <see cref="Probe"/> names a batch-norm layer whose β, batch mean and batch
/// variance are recorded every step (Figure 1; meaningful without F, where batch statistics are folded).
/// </summary>
public sealed record QuantCell(FloatCell Float, QuantRecipe Recipe, int Batch, ulong Seed, int EvalEvery = 0, string? Probe = null) : CellSpec
{
    public override string Kind => "quant";

    public override string Label => $"{Commands.RunCommand.Title(Float.Detector)} {Float.Backbone} {Recipe.Name} {Recipe.EffectiveBits}-bit b{Batch} s{Seed}";

    public override IEnumerable<CellSpec> DependsOn => [Float];

    public override JsonObject Config() => new()
    {
        ["float"] = Float.Id, ["recipe"] = Node(Recipe), ["batch"] = Batch, ["seed"] = Seed, ["eval_every"] = EvalEvery, ["probe"] = Probe,
    };
}
