using Nanoq.Autograd;
using Nanoq.Nn.Optim;
using Nanoq.Quant;
using Nanoq.Quant.Quantizers;
using Nanoq.Quant.Observers;

namespace Nanoq.Tests.Modules;

/// <summary>The calibration pass (n_cal batches of the float model) and a short quantization-aware fine-tuning.</summary>
public class CalibratorTests
{
    private static IEnumerable<Tensor> Batches(ulong seed, int count)
    {
        var rng = new Rng(seed);
        for (int i = 0; i < count; i++) yield return rng.Normal(new Shape(2, 3, 6, 6), 0.2f, 1.3f);
    }

    [Fact]
    public void Calibration_uses_n_cal_batches_of_the_float_model_and_fixes_every_range()
    {
        var recipe = QuantRecipe.Fqn(4);
        var net = new TinyNet(recipe);
        net.Train();
        int used = Calibrator.Calibrate(net, Batches(1, 25), b => net.Forward(new Var(b)), recipe.CalibrationBatches);
        Assert.Equal(20, used);
        var reg = QuantRegistry.Collect(net);
        foreach (var a in reg.Activations.Cast<ActQuantizer>())
        {
            Assert.True(a.IsQuantizing);
            Assert.Equal(20, a.Observer.Batches);
            Assert.False(a.TrackRangeInTraining); // P: fixed ranges
        }
        Assert.All(reg.Weights, w => Assert.True(w.Enabled));
        Assert.True(net.Training);

        // "The float model": conv1's output range is what a percentile observer makes of conv → BN → ReLU in float.
        var reference = new PercentileObserver(recipe.Gamma);
        net.Eval();
        foreach (var b in Batches(1, 20))
        {
            net.FloatForward(new Var(b), out var conv1Out);
            reference.Observe(conv1Out.Value);
        }
        Assert.Equal(reference.QParams(4), TinyNet.Act(net.Conv1).Current);
        net.Forward(new Var(Batches(9, 1).First())); // a forward gives each weight quantizer its grid
        Assert.True(reg.Describe().All(i => i.Calibrated));
    }

    [Fact]
    public void After_calibration_the_output_is_on_the_last_quantizers_grid()
    {
        var recipe = QuantRecipe.Fqn(4);
        var net = new TinyNet(recipe);
        Calibrator.Calibrate(net, Batches(2, 5), b => net.Forward(new Var(b)));
        var y = net.Forward(new Var(Batches(3, 1).First()));
        var q = TinyNet.Act(net.Add).Current!.Value;
        Assert.All(y.Value.ToArray(), v => Assert.Equal(Math.Round(v / q.Scale), v / q.Scale, 3));
        Assert.True(y.Value.ToArray().Distinct().Count() <= 16);
    }

    [Fact]
    public void Ema_recipes_keep_tracking_ranges_during_fine_tuning()
    {
        var recipe = QuantRecipe.Fqn(4) with { P = false };
        var net = new TinyNet(recipe);
        Calibrator.Calibrate(net, Batches(4, 3), b => net.Forward(new Var(b)));
        var add = TinyNet.Act(net.Add);
        Assert.IsType<EmaMinMaxObserver>(add.Observer);
        Assert.True(add.TrackRangeInTraining);
        var before = add.Current;
        net.Train();
        net.Forward(new Var(Batches(5, 1).First()));
        Assert.NotEqual(before, add.Current);
    }

    [Fact]
    public void A_quantizer_the_batches_never_reach_is_named_in_the_error()
    {
        var net = new TinyNet(QuantRecipe.Fqn(), withUnusedQuantizer: true);
        var e = Assert.Throws<InvalidOperationException>(() => Calibrator.Calibrate(net, Batches(6, 2), b => net.Forward(new Var(b))));
        Assert.Contains("unused.activation_post_process", e.Message);
        // Nothing is left recording or half-calibrated: every activation quantizer is the identity again.
        var acts = QuantRegistry.Collect(net).Activations.Cast<ActQuantizer>().ToList();
        Assert.All(acts, a => Assert.False(a.IsQuantizing));
        var seen = acts.Select(a => a.Observer.Batches).ToList();
        net.Forward(new Var(Batches(7, 1).First()));
        Assert.Equal(seen, acts.Select(a => a.Observer.Batches).ToList());
        Assert.Throws<ArgumentException>(() => Calibrator.Calibrate(new TinyNet(QuantRecipe.Fqn()), Array.Empty<Tensor>(), _ => { }));
    }

    [Theory]
    [InlineData(true, true, true)]
    [InlineData(true, false, false)]
    public void Quantization_aware_fine_tuning_lowers_the_loss(bool f, bool p, bool c)
    {
        // Regress the float network's own output from a perturbed copy: the 4-bit model must learn back toward it.
        // (F on: the targets come from the frozen statistics, which batch-statistics folding would not reproduce.)
        var recipe = QuantRecipe.Fqn(4) with { F = f, P = p, C = c };
        var teacher = new TinyNet(recipe, seed: 21);
        var student = new TinyNet(recipe, seed: 21);
        foreach (var (_, prm) in student.NamedParameters()) foreach (ref float v in prm.Value.Span) v *= 1.3f;
        var data = Batches(22, 4).ToList();
        teacher.Eval();
        var targets = data.Select(b => teacher.FloatForward(new Var(b), out _).Value).ToList();
        Calibrator.Calibrate(student, data, b => student.Forward(new Var(b)), 4);
        student.Train();
        var opt = new Sgd(student.NamedParameters(), recipe.FineTuneLr(0.05f), momentum: 0.9f, weightDecay: 0f);
        double Loss()
        {
            using var _ = GradMode.NoGrad();
            student.Eval();
            double l = data.Select((b, i) => (double)Fn.SmoothL1Loss(student.Forward(new Var(b)), targets[i]).Value.Span[0]).Average();
            student.Train();
            return l;
        }
        double before = Loss();
        for (int step = 0; step < 30; step++)
        {
            student.ZeroGrad();
            Fn.SmoothL1Loss(student.Forward(new Var(data[step % data.Count])), targets[step % data.Count]).Backward();
            opt.Step();
        }
        double after = Loss();
        Assert.True(after < 0.8 * before, $"loss {before:G4} → {after:G4}");
    }
}
