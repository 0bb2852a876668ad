using Nanoq.Autograd;
using Nanoq.Nn;
using Nanoq.Nn.Backbones;
using Nanoq.Nn.Layers;
using Nanoq.Nn.Optim;

namespace Nanoq.Tests;

public class ModuleTests
{
    [Fact]
    public void ResNetNamesFollowTorchvision()
    {
        var keys = ResNet.ResNet18().StateDict().Keys.ToList();
        Assert.Contains("conv1.weight", keys);
        Assert.Contains("layer2.0.bn1.running_mean", keys);
        Assert.Contains("layer2.0.downsample.0.weight", keys);
        Assert.Contains("layer4.1.bn2.running_var", keys);
        Assert.Contains("fc.bias", keys);
        Assert.Equal(11_689_512, ResNet.ResNet18().ParameterCount()); // torchvision's resnet18 count
        Assert.Equal(25_557_032, ResNet.ResNet50().ParameterCount());
        Assert.Equal(21_797_672, ResNet.ResNet34().ParameterCount());
        Assert.Equal(3_504_872, new MobileNetV2().ParameterCount());
    }

    [Theory]
    [InlineData("resnet18", 64, 128, 256, 512)]
    [InlineData("resnet50", 256, 512, 1024, 2048)]
    [InlineData("mobilenet", 24, 32, 96, 1280)]
    public void StagesHaveStrides4To32(string name, int c2, int c3, int c4, int c5)
    {
        IBackbone b = name switch
        {
            "resnet18" => ResNet.ResNet18(numClasses: 0),
            "resnet50" => ResNet.ResNet50(numClasses: 0),
            _ => new MobileNetV2(numClasses: 0),
        };
        Assert.Equal([c2, c3, c4, c5], b.StageChannels);
        ((Module)b).Eval();
        using var _ = GradMode.NoGrad();
        var c = b.Stages(new Var(Tensor.Zeros(1, 3, 64, 96)));
        for (int i = 0; i < 4; i++)
            Assert.Equal([1, b.StageChannels[i], 64 >> (i + 2), 96 >> (i + 2)], c[i].Shape.ToArray());
    }

    [Fact]
    public void WidthMultiplierRoundsLikeTorchvision()
    {
        Assert.Equal(8, MobileNetV2.MakeDivisible(32 * 0.25f));
        Assert.Equal(16, MobileNetV2.MakeDivisible(16 * 0.5f + 4));
        Assert.Equal(1280, MobileNetV2.MakeDivisible(1280 * 1f));
        Assert.Equal(8, MobileNetV2.MakeDivisible(3));
    }

    [Fact]
    public void FrozenBatchNormUsesAndKeepsRunningStatistics()
    {
        var bn = new BatchNorm2d(2);
        bn.RunningMean.Span[0] = 1f; bn.RunningVar.Span[1] = 4f;
        bn.Frozen = true;
        var x = new Var(TestDataNn.Normal(3, 4, 2, 3, 3));
        var y = bn.Forward(x);
        Assert.Equal([1f, 0f], bn.RunningMean.ToArray());
        Assert.Equal([1f, 4f], bn.RunningVar.ToArray());
        float expected = (x.Value[0, 0, 0, 0] - 1f) / MathF.Sqrt(1f + 1e-5f);
        Assert.Equal(expected, y.Value[0, 0, 0, 0], 5);
        Fn.Sum(y).Backward();
        Assert.NotNull(bn.Weight.Grad); // γ and β still learn
        bn.Frozen = false;
        bn.Forward(x);
        Assert.NotEqual(1f, bn.RunningMean.Span[0]);
    }

    [Fact]
    public void SgdMatchesPyTorchUpdateRule()
    {
        // p = 1, g = 0.5, λ = 0.1, μ = 0.9, lr = 0.1:
        // step 1: d = 0.5 + 0.1 = 0.6, b = 0.6, p = 1 − 0.06 = 0.94
        // step 2: d = 0.5 + 0.094 = 0.594, b = 0.54 + 0.594 = 1.134, p = 0.94 − 0.1134 = 0.8266
        var p = new Var(Tensor.FromArray([1f], 1), requiresGrad: true, name: "p");
        var sgd = new Sgd([("p", p)], lr: 0.1f, momentum: 0.9f, weightDecay: 0.1f);
        for (int i = 0; i < 2; i++)
        {
            p.ZeroGrad();
            p.AccumulateGrad(Tensor.FromArray([0.5f], 1));
            sgd.Step();
        }
        Assert.Equal(0.8266f, p.Value.Span[0], 5);
        Assert.Equal(1.134f, sgd.State()["momentum.p"].Span[0], 5);
    }

    [Fact]
    public void WarmupStepSchedule()
    {
        var s = new LrSchedule.WarmupStep(0.01f, 100, 0.001f, [1000, 2000]);
        Assert.Equal(0.01f * 0.001f, s.At(0), 7);
        Assert.Equal(0.01f * (0.001f * 0.5f + 0.5f), s.At(50), 7);
        Assert.Equal(0.01f, s.At(100), 7);
        Assert.Equal(0.001f, s.At(1000), 7);
        Assert.Equal(0.0001f, s.At(2500), 7);
        Assert.Equal(0.001f, new LrSchedule.Constant(0.001f).At(12345));
    }

    [Fact]
    public void TrainEvalSwitchesEveryDescendant()
    {
        var m = ResNet.ResNet18(numClasses: 3, width: 8);
        m.Eval();
        Assert.All(m.NamedModules(), x => Assert.False(x.Module.Training));
        m.Train();
        Assert.All(m.NamedModules(), x => Assert.True(x.Module.Training));
    }
}

internal static class TestDataNn
{
    public static Tensor Normal(ulong seed, params int[] dims) => new Rng(seed).Normal(new Shape(dims));
}

public class TapTests
{
    [Theory]
    [InlineData("resnet18")]
    [InlineData("resnet50")]
    [InlineData("mobilenet")]
    public void EveryConvBelongsToExactlyOneConvUnit(string name)
    {
        Module m = name switch
        {
            "resnet18" => ResNet.ResNet18(numClasses: 0, width: 8),
            "resnet50" => ResNet.ResNet50(numClasses: 0, width: 8),
            _ => new MobileNetV2(numClasses: 0, widthMult: 0.25f),
        };
        var convs = m.NamedModules().Select(x => x.Module).OfType<Conv2d>().ToList();
        var units = m.NamedTaps().Select(t => t.Tap).OfType<Nanoq.Nn.Taps.ConvUnit>().ToList();
        Assert.Equal(convs.Count, units.Count);
        Assert.Equal(convs.Count, units.Select(u => u.Conv).Distinct().Count());
        Assert.All(units, u => Assert.NotNull(u.Bn)); // backbones: every conv has its batch norm to fold
    }

    [Fact]
    public void TapNamesAreDottedPaths()
    {
        var names = ResNet.ResNet18(numClasses: 0, width: 8).NamedTaps().Select(t => t.Name).ToList();
        Assert.Contains("conv1", names);
        Assert.Contains("layer1.0.conv1", names);
        Assert.Contains("layer2.0.downsample.unit", names);
        Assert.Contains("layer4.1.add", names);
        Assert.DoesNotContain("layer4.1.add.out", names); // an add quantizes its own output: one tap
        Assert.Equal(names.Count, names.Distinct().Count());
    }

    [Fact]
    public void Modules_installed_at_a_tap_are_in_the_state_dict_and_follow_train_eval()
    {
        var m = ResNet.ResNet18(numClasses: 0, width: 8);
        var add = (Nanoq.Nn.Taps.AddUnit)m.NamedTaps().Single(t => t.Name == "layer1.0.add").Tap;
        var q = new Probe();
        add.SetOutputQuantizer(q);
        Assert.Contains("layer1.0.add.activation_post_process.step", m.StateDict().Keys);
        Assert.Contains(m.NamedModules(), nm => ReferenceEquals(nm.Module, q) && nm.Name == "layer1.0.add.activation_post_process");
        m.Eval();
        Assert.False(q.Training);
        m.Train();
        Assert.True(q.Training);
        add.SetOutputQuantizer(null);
        Assert.DoesNotContain("layer1.0.add.activation_post_process.step", m.StateDict().Keys);
    }

    private sealed class Probe : Nanoq.Nn.Taps.TensorQuantizer
    {
        public Probe() => Buffer("step", Tensor.Zeros(1));

        public override Nanoq.Autograd.Var Forward(Nanoq.Autograd.Var x) => x;
    }
}
