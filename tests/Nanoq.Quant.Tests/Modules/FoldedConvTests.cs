using Nanoq.Nn.Taps;
using Nanoq.Autograd;
using Nanoq.Nn.Layers;
using Nanoq.Quant;
using Nanoq.Quant.Quantizers;
using Nanoq.Quant.Taps;

namespace Nanoq.Tests.Modules;

/// <summary>The quantized conv+BN(+act) layer: fold modes, running statistics, gradients, quantization grids.</summary>
public class FoldedConvTests
{
    private static (Conv2d Conv, BatchNorm2d Bn) Trained(ulong seed, bool bias = true)
    {
        var rng = new Rng(seed);
        return (new Conv2d(3, 5, 3, padding: 1, bias: bias, rng: rng), TinyNet.RandomBn(5, rng));
    }

    private static double MaxRelDiff(Tensor a, Tensor b)
    {
        double scale = 1e-6 + b.ToArray().Max(Math.Abs), d = 0;
        for (int i = 0; i < a.Size; i++) d = Math.Max(d, Math.Abs(a.Span[i] - b.Span[i]));
        return d / scale;
    }

    [Fact]
    public void Without_quantization_it_is_conv_then_batch_norm_then_relu()
    {
        var (conv, bn) = Trained(1);
        var layer = new OneConv(conv, bn, ActivationKind.Relu, new WeightQuantizer(4, true, 5) { Enabled = false }, null);
        layer.Eval();
        var x = new Var(TestData.Normal(2, 2, 3, 7, 6));
        var expected = Fn.Relu(bn.Forward(conv.Forward(x)));
        Assert.True(MaxRelDiff(layer.Forward(x).Value, expected.Value) < 1e-5);
        layer.Train();
        Assert.True(MaxRelDiff(layer.Forward(x).Value, expected.Value) < 1e-5); // F: training folds the same frozen statistics
    }

    [Fact]
    public void Frozen_folding_never_updates_the_statistics_and_trains_W_gamma_beta()
    {
        var (conv, bn) = Trained(3);
        var mean0 = bn.RunningMean.ToArray();
        var var0 = bn.RunningVar.ToArray();
        var layer = new OneConv(conv, bn, ActivationKind.Relu6, new WeightQuantizer(4, true, 5), null, BnFoldMode.Frozen);
        layer.Train();
        var y = layer.Forward(new Var(TestData.Normal(4, 2, 3, 6, 6)));
        Fn.Sum(y).Backward();
        Assert.Equal(mean0, bn.RunningMean.ToArray());
        Assert.Equal(var0, bn.RunningVar.ToArray());
        foreach (var p in new[] { conv.Weight, conv.Bias!, bn.Weight, bn.Bias })
            Assert.True(p.Grad is not null && p.Grad.ToArray().Any(v => v != 0f), $"no gradient for {p.Name}");
    }

    [Fact]
    public void Batch_statistics_folding_matches_batch_norm_training_in_value_gradient_and_running_stats()
    {
        // eq. 11–12 without quantization is exactly conv → BN(train): same output, same dW/dγ/dβ, same EMA update.
        var (conv, bn) = Trained(5);
        var (conv2, bn2) = Trained(5);
        var layer = new OneConv(conv, bn, ActivationKind.None, new WeightQuantizer(8, true, 5) { Enabled = false }, null, BnFoldMode.BatchStats);
        layer.Train();
        bn2.Train();
        var xt = TestData.Normal(6, 3, 3, 5, 4);
        var g = TestData.Normal(7, 3, 5, 5, 4);
        var y = layer.Forward(new Var(xt));
        var yRef = bn2.Forward(conv2.Forward(new Var(xt)));
        Assert.True(MaxRelDiff(y.Value, yRef.Value) < 1e-4);
        y.Backward(g);
        yRef.Backward(g);
        Assert.True(MaxRelDiff(conv.Weight.Grad!, conv2.Weight.Grad!) < 1e-3);
        Assert.True(MaxRelDiff(bn.Weight.Grad!, bn2.Weight.Grad!) < 1e-3);
        Assert.True(MaxRelDiff(bn.Bias.Grad!, bn2.Bias.Grad!) < 1e-4);
        Assert.True(MaxRelDiff(bn.RunningMean, bn2.RunningMean) < 1e-5);
        Assert.True(MaxRelDiff(bn.RunningVar, bn2.RunningVar) < 1e-5);
        Assert.True(conv.Bias!.Grad is null || conv.Bias.Grad.ToArray().All(v => v == 0f)); // BN cancels the bias
    }

    [Fact]
    public void Batch_statistics_freeze_at_the_given_step()
    {
        var (conv, bn) = Trained(8);
        // The clock is the optimizer's step, set by the training loop (ModelQuantizer.SetStep), not the number of
        // forward calls: a shared layer runs several times a step (RetinaNet's head, once a pyramid level).
        var layer = new OneConv(conv, bn, ActivationKind.Relu, new WeightQuantizer(4, false, 5), null, BnFoldMode.BatchStats, freezeBnAtStep: 2);
        layer.Train();
        var x = new Var(TestData.Normal(9, 2, 3, 5, 5));
        Assert.True(layer.Fold.UsesBatchStats(layer.Unit));
        layer.Forward(x);
        var after1 = bn.RunningMean.ToArray();
        layer.Forward(x);                       // step 0 still: five calls of one step all fold batch statistics
        layer.Forward(x);
        Assert.NotEqual(after1, bn.RunningMean.ToArray());
        Assert.Equal(0, layer.Fold.Step);
        Assert.True(layer.Fold.UsesBatchStats(layer.Unit));
        ModelQuantizer.SetStep(layer, 2);
        Assert.Equal(2, layer.Fold.Step);
        Assert.False(layer.Fold.UsesBatchStats(layer.Unit));
        var frozen = bn.RunningMean.ToArray();
        layer.Forward(x);
        Assert.Equal(frozen, bn.RunningMean.ToArray());
        ModelQuantizer.SetStep(layer, 1);
        layer.Eval();
        Assert.False(layer.Fold.UsesBatchStats(layer.Unit));
    }

    [Fact]
    public void Quantized_weights_and_outputs_lie_on_their_grids()
    {
        var (conv, bn) = Trained(10);
        var outQ = new ActQuantizer(4);
        outQ.SetQParams(QParams.FromRange(0f, 3f, 4));
        var layer = new OneConv(conv, bn, ActivationKind.Relu, new WeightQuantizer(4, perChannel: true, 5), outQ);
        layer.Eval();
        var y = layer.Forward(new Var(TestData.Normal(11, 1, 3, 6, 6)));
        var q = outQ.Current!.Value;
        foreach (float v in y.Value.Span)
        {
            double code = v / q.Scale + q.ZeroPoint;
            Assert.Equal(Math.Round(code), code, 3);
        }
        // The weight quantizer describes per-channel parameters of W_fold (eq. 9–10 on the folded weights).
        var info = ((FakeQuantizer)layer.Unit.WeightQuantizer!).Describe();
        var (wf, bf) = FoldedConv.Folded(layer.Unit);
        var expected = ChannelQParams.FromTensor(wf, 4, 0);
        Assert.True(info.PerChannel);
        Assert.Equal(expected.Scales.ToArray(), info.Scales);
        Assert.Equal(expected.ZeroPoints.ToArray(), info.ZeroPoints);
    }

    [Fact]
    public void Folded_weights_and_bias_reproduce_the_float_layer()
    {
        var (conv, bn) = Trained(12);
        var layer = new OneConv(conv, bn, ActivationKind.None, new WeightQuantizer(4, true, 5), null);
        (Tensor W, Tensor B) folded;
        using (new Tape()) folded = FoldedConv.Folded(layer.Unit); // no graph nodes: a tape must not take the result back to the pool
        var (w, b) = folded;
        var x = new Var(TestData.Normal(13, 2, 3, 5, 5));
        bn.Eval();
        var expected = bn.Forward(conv.Forward(x));
        var got = Fn.Conv2d(x, new Var(w), new Var(b), 1, 1);
        Assert.True(MaxRelDiff(got.Value, expected.Value) < 1e-5);
    }

    [Fact]
    public void Xnor_sign_output_replaces_the_relu()
    {
        var (conv, bn) = Trained(14);
        var x0 = QuantRecipe.Xnor();
        var layer = new OneConv(conv, bn, ActivationKind.Relu, x0.CreateWeightQuantizer(5), x0.CreateActQuantizer());
        layer.Eval();
        var y = layer.Forward(new Var(TestData.Normal(15, 1, 3, 5, 5)));
        Assert.All(y.Value.ToArray(), v => Assert.True(v == 1f || v == -1f));
        Assert.Contains(-1f, y.Value.ToArray());
    }

    [Fact]
    public void The_quantizers_are_modules_of_the_tap_so_the_state_dict_holds_their_grids()
    {
        var (conv, bn) = Trained(16);
        var layer = new OneConv(conv, bn, ActivationKind.Relu, new WeightQuantizer(4, true, 5), new ActQuantizer(4));
        var keys = layer.StateDict().Keys.ToList();
        Assert.Contains("unit.weight_fake_quant.scale", keys);
        Assert.Contains("unit.weight_fake_quant.zero_point", keys);
        Assert.Contains("unit.activation_post_process.scale", keys);
        Assert.Contains("unit.activation_post_process.state", keys);
        Assert.Contains("unit.activation_post_process.observer.min_val", keys);
        Assert.Contains("conv.weight", keys);
        layer.Eval();
        Assert.False(layer.Unit.WeightQuantizer!.Training); // train/eval reaches them
    }
}
