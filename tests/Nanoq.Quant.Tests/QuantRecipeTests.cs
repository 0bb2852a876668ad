using Nanoq.Nn.Taps;
using Nanoq.Nn.Layers;
using Nanoq.Quant;
using Nanoq.Quant.Quantizers;
using Nanoq.Quant.Taps;
using Nanoq.Tests.Modules;
using Nanoq.Quant.Observers;

namespace Nanoq.Tests;

/// <summary>Recipes: FQN's defaults, the eight ablation rows, the baselines, and what each builds.</summary>
public class QuantRecipeTests
{
    [Fact]
    public void Fqn_defaults_are_the_papers()
    {
        var r = QuantRecipe.Fqn();
        Assert.True(r.F && r.P && r.C);
        Assert.Equal(4, r.Bits);
        Assert.Equal(0.999, r.Gamma);
        Assert.Equal(20, r.CalibrationBatches);
        Assert.Equal(0.1f, r.LrFactor);
        Assert.Equal(0.001f, r.FineTuneLr(0.01f), 7);
        Assert.Equal(BnFoldMode.Frozen, r.FoldMode);
        Assert.Null(r.FreezeBnAtStep);
        Assert.Equal(QuantScheme.Affine, r.Scheme);
    }

    [Fact]
    public void The_ablation_has_eight_distinct_rows_from_baseline_to_fqn()
    {
        var rows = QuantRecipe.Ablation(8);
        Assert.Equal(8, rows.Count);
        Assert.Equal(8, rows.Select(r => (r.F, r.P, r.C)).Distinct().Count());
        Assert.Equal("baseline", rows[0].Name);
        Assert.False(rows[0].F || rows[0].P || rows[0].C);
        Assert.Equal("F+P+C", rows[7].Name);
        Assert.True(rows[7].F && rows[7].P && rows[7].C);
        Assert.All(rows, r => Assert.Equal(8, r.Bits));
        Assert.Equal(["baseline", "C", "P", "P+C", "F", "F+C", "F+P", "F+P+C"], rows.Select(r => r.Name).ToArray());
    }

    [Fact]
    public void Invalid_recipes_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => QuantRecipe.Fqn(9));
        Assert.Throws<ArgumentOutOfRangeException>(() => QuantRecipe.Fqn(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => (QuantRecipe.Fqn() with { Gamma = 0.3 }).Validated());
        Assert.Throws<ArgumentOutOfRangeException>(() => (QuantRecipe.Fqn() with { CalibrationBatches = 0 }).Validated());
        Assert.Throws<ArgumentOutOfRangeException>(() => (QuantRecipe.Fqn() with { FreezeBnLastSteps = -1 }).Validated());
    }

    [Fact]
    public void Switches_choose_fold_mode_observer_and_weight_granularity()
    {
        var baseline = QuantRecipe.Ablation()[0] with { FreezeBnLastSteps = 300, Steps = 2000 };
        Assert.Equal(BnFoldMode.BatchStats, baseline.FoldMode);
        Assert.Equal(1700, baseline.FreezeBnAtStep);
        var net = new TinyNet(baseline);
        var fold = (FoldedConv)net.Conv1.Implementation!;
        Assert.Equal(BnFoldMode.BatchStats, fold.FoldMode);
        Assert.Equal(1700, fold.FreezeBnAtStep);
        Assert.False(((WeightQuantizer)net.Conv1.WeightQuantizer!).PerChannel);
        Assert.IsType<EmaMinMaxObserver>(TinyNet.Act(net.Conv1).Observer);
        Assert.True(TinyNet.Act(net.Conv1).TrackRangeInTraining);

        var fqn = new TinyNet(QuantRecipe.Fqn());
        Assert.True(((WeightQuantizer)fqn.Conv1.WeightQuantizer!).PerChannel);
        Assert.Equal(BnFoldMode.Frozen, ((FoldedConv)fqn.Conv1.Implementation!).FoldMode);
        Assert.IsType<PercentileObserver>(QuantRecipe.Fqn().CreateObserver());
        Assert.Equal(0.99, ((PercentileObserver)(QuantRecipe.Fqn() with { Gamma = 0.99 }).CreateObserver()).Gamma);
    }

    [Fact]
    public void Baselines_swap_the_quantizers()
    {
        var d = QuantRecipe.DoReFa(4);
        Assert.IsType<DoReFaWeightQuantizer>(d.CreateWeightQuantizer(4));
        Assert.IsType<DoReFaActQuantizer>(d.CreateActQuantizer());
        var x = QuantRecipe.Xnor();
        Assert.Equal(1, x.CreateWeightQuantizer(4).Bits);
        Assert.IsType<XnorWeightQuantizer>(x.CreateWeightQuantizer(4));
        Assert.IsType<SignActQuantizer>(x.CreateActQuantizer());
        Assert.Contains("XNOR", x.ToString());
        var l = QuantRecipe.Lsq(4);
        var lw = Assert.IsType<LsqQuantizer>(l.CreateWeightQuantizer(4));
        Assert.True(lw.PerChannel);
        Assert.True(Assert.IsType<LsqQuantizer>(l.CreateActQuantizer()).NeedsCalibration);
    }
}
