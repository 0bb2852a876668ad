using Nanoq.Autograd;
using Nanoq.Nn;
using Nanoq.Quant;
using Nanoq.Quant.Quantizers;

namespace Nanoq.Tests.Modules;

/// <summary>Quantizer names follow module paths; the registry describes every quantizer and refuses ambiguity.</summary>
public class RegistryTests
{
    private sealed class Holder : Layer
    {
        public Holder(string name, Module m) => Child(name, m);

        public override Var Forward(Var x) => x;
    }

    [Fact]
    public void Names_are_module_paths_plus_roles()
    {
        var net = new TinyNet(QuantRecipe.Fqn());
        var root = new Holder("backbone", new Holder("layer2", new Sequential(net)));
        var reg = QuantRegistry.Collect(root);
        Assert.Equal(
            ["backbone.layer2.0.input.activation_post_process", "backbone.layer2.0.conv1.weight_fake_quant", "backbone.layer2.0.conv1.activation_post_process",
             "backbone.layer2.0.conv2.weight_fake_quant", "backbone.layer2.0.conv2.activation_post_process", "backbone.layer2.0.add.activation_post_process"],
            reg.Quantizers.Select(q => q.Name).ToArray());
        Assert.Same(net.Add.OutputQuantizer, reg["backbone.layer2.0.add.activation_post_process"]);
        Assert.Equal(4, reg.Activations.Count());
        Assert.Equal(2, reg.Weights.Count());
        Assert.Throws<KeyNotFoundException>(() => reg["nope"]);
    }

    [Fact]
    public void Describe_reports_weights_per_channel_and_uncalibrated_activations()
    {
        var net = new TinyNet(QuantRecipe.Fqn(4));
        net.Eval();
        net.Forward(new Var(TestData.Normal(3, 1, 3, 5, 5))); // a forward sets each weight grid
        var reg = QuantRegistry.Collect(net);
        var infos = reg.Describe();
        var w = infos.Single(i => i.Name == "conv1.weight_fake_quant");
        Assert.Equal(QuantizerRole.Weight, w.Role);
        Assert.True(w.PerChannel);
        Assert.Equal(0, w.Axis);
        Assert.Equal(4, w.Scales.Length);   // conv1 has 4 output channels
        Assert.Equal(4, w.Bits);
        Assert.True(w.Calibrated);
        var cq = w.ToChannelQParams();
        for (int c = 0; c < 4; c++) Assert.Equal(cq[c].Lb, w.Lb[c]);
        var a = infos.Single(i => i.Name == "add.activation_post_process");
        Assert.Equal(QuantizerRole.Activation, a.Role);
        Assert.False(a.Calibrated);
        Assert.Contains("uncalibrated", a.ToString());

        var pt = new TinyNet(QuantRecipe.Fqn(4) with { C = false });
        pt.Eval();
        pt.Forward(new Var(TestData.Normal(3, 1, 3, 5, 5)));
        var perTensor = QuantRegistry.Collect(pt).Describe().Single(i => i.Name == "conv2.weight_fake_quant");
        Assert.False(perTensor.PerChannel);
        Assert.Single(perTensor.Scales);
        _ = perTensor.ToQParams();
    }

    [Fact]
    public void A_quantizer_reachable_twice_is_an_error()
    {
        var shared = new ActQuantizer(4);
        var root = new Sequential(new Holder("a", shared), new Holder("b", shared));
        var e = Assert.Throws<InvalidOperationException>(() => QuantRegistry.Collect(root));
        Assert.Contains("twice", e.Message);
    }
}
