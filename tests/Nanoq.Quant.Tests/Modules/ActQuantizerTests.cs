using Nanoq.Autograd;
using Nanoq.Quant;
using Nanoq.Quant.Quantizers;
using Nanoq.Quant.Observers;

namespace Nanoq.Tests.Modules;

/// <summary>The activation quantizer's states: float, calibrating, quantizing (fixed or EMA-tracked range).</summary>
public class ActQuantizerTests
{
    [Fact]
    public void Uncalibrated_it_is_the_identity()
    {
        var q = new ActQuantizer(4);
        var x = new Var(TestData.Normal(1, 10));
        Assert.Same(x, q.Forward(x));
        Assert.False(q.Describe().Calibrated);
    }

    [Fact]
    public void Calibration_observes_without_changing_values_then_fixes_the_range()
    {
        var q = new ActQuantizer(4, new MinMaxObserver()) { Name = "a.out" };
        q.BeginCalibration();
        var x = new Var(Tensor.FromArray([-1f, 0.3f, 2f]));
        Assert.Same(x, q.Forward(x));
        q.EndCalibration();
        Assert.True(q.IsQuantizing);
        Assert.Equal(QParams.FromRange(-1f, 2f, 4), q.Current);
        var y = q.Forward(new Var(Tensor.FromArray([5f])));
        Assert.Equal(q.Current!.Value.Ub, y.Value.Span[0]);
        Assert.Equal(q.Current!.Value.Scale, q.Describe().Scales[0]);

        var empty = new ActQuantizer(4) { Name = "never.out" };
        empty.BeginCalibration();
        var e = Assert.Throws<InvalidOperationException>(empty.EndCalibration);
        Assert.Contains("never.out", e.Message);
    }

    [Fact]
    public void A_floor_raises_the_calibrated_range_to_one_step_below_it()
    {
        // Logits in [−9, 3], floor −3 (a score threshold of σ(−3) ≈ 0.047): Δ₀ = (3 − (−3)) / 15 = 0.4, so the range is
        // [−3.4, 3]: Δ = 6.4 / 15 ≈ 0.4267, z = round(3.4 / Δ) = round(7.97) = 8, lowest code −8Δ ≈ −3.413 ≤ −3.
        var q = new ActQuantizer(4, new MinMaxObserver()) { Floor = -3f };
        q.BeginCalibration();
        q.Forward(new Var(Tensor.FromArray([-9f, -5f, 0.5f, 3f])));
        q.EndCalibration();
        var p = q.Current!.Value;
        Assert.Equal(QParams.FromRange(-3.4f, 3f, 4), p);
        Assert.Equal(8, p.ZeroPoint);
        Assert.True(p.Lb <= -3f);
        var y = q.Forward(new Var(Tensor.FromArray([-9f])));
        Assert.Equal(p.Lb, y.Value.Span[0]); // still below the floor: the consumer still discards it
        Assert.Equal(p.Scale, QParams.FromRange(-9f, 3f, 4).Scale * 6.4f / 12f, 5);
    }

    [Fact]
    public void Ema_tracking_updates_the_range_in_training_only()
    {
        var q = new ActQuantizer(8, new EmaMinMaxObserver(0.5f)) { TrackRangeInTraining = true };
        q.BeginCalibration();
        q.Forward(new Var(Tensor.FromArray([-1f, 1f])));
        q.EndCalibration();
        q.Eval();
        q.Forward(new Var(Tensor.FromArray([-3f, 3f])));
        Assert.Equal(1, q.Observer.Batches);
        q.Train();
        q.Forward(new Var(Tensor.FromArray([-3f, 3f])));
        Assert.Equal(2, q.Observer.Batches);
        Assert.Equal(QParams.FromRange(-2f, 2f, 8), q.Current); // −1 + 0.5·(−3 + 1) = −2
    }

    [Fact]
    public void The_straight_through_gradient_reaches_the_input()
    {
        var q = new ActQuantizer(4);
        q.SetQParams(QParams.FromRange(0f, 1f, 4));
        var x = new Var(Tensor.FromArray([-0.5f, 0.5f, 2f]), requiresGrad: true);
        q.Forward(x).Backward(Tensor.Ones(3));
        Assert.Equal([0f, 1f, 0f], x.Grad!.ToArray());
        Assert.Throws<ArgumentException>(() => q.SetQParams(QParams.FromRange(0f, 1f, 8)));
    }

    [Fact]
    public void DoReFa_and_sign_quantize_without_calibration()
    {
        var d = new DoReFaActQuantizer(2);
        Assert.False(d.NeedsCalibration);
        var y = d.Forward(new Var(Tensor.FromArray([-1f, 0.4f, 3f])));
        Assert.Equal([0f, 1f / 3f, 1f], y.Value.ToArray());
        Assert.Equal("dorefa", d.Describe().Method);
        var s = new SignActQuantizer();
        Assert.Equal([-1f, 1f], s.Forward(new Var(Tensor.FromArray([-0.1f, 0.1f]))).Value.ToArray());
        Assert.Equal(1, s.Describe().Bits);
    }

    [Fact]
    public void A_calibrated_quantizer_restores_from_its_state_dict_alone()
    {
        var q = new ActQuantizer(4, new EmaMinMaxObserver(0.5f)) { TrackRangeInTraining = true };
        q.BeginCalibration();
        q.Forward(new Var(Tensor.FromArray([-1f, 1f])));
        q.EndCalibration();
        var copy = new ActQuantizer(4, new EmaMinMaxObserver(0.5f)) { TrackRangeInTraining = true };
        copy.LoadStateDict(q.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.Clone()));
        Assert.Equal(q.Current, copy.Current);
        // The EMA continues from the restored state: −1 + 0.5·(−3 + 1) = −2 in both.
        q.Train();
        copy.Train();
        q.Forward(new Var(Tensor.FromArray([-3f, 3f])));
        copy.Forward(new Var(Tensor.FromArray([-3f, 3f])));
        Assert.Equal(QParams.FromRange(-2f, 2f, 4), copy.Current);
        Assert.Equal(q.Current, copy.Current);
    }
}
