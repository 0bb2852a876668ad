using Nanoq.Nn.Backbones;
using Nanoq.Nn.Layers;

namespace Nanoq.Nn.Tests;

/// <summary>Backbones by name: the native ones, registered providers, and scratch: copies.</summary>
public class DetectionBackbonesTests
{
    [Fact]
    public void A_scratch_backbone_is_the_same_network_with_torchvision_initialization()
    {
        // A "pretrained" ResNet: trained-looking weights and statistics, batch norm frozen.
        var trained = (Module)DetectionBackbones.Create("resnet18", 0.25f, new Rng(1));
        var scratch = (Module)DetectionBackbones.Create("scratch:resnet18", 0.25f, new Rng(1));
        Assert.Equal(trained.StateDict().Keys.Order(), scratch.StateDict().Keys.Order());
        foreach (var (name, m) in scratch.NamedModules())
        {
            if (m is BatchNorm2d bn)
            {
                Assert.All(bn.Weight.Value.ToArray(), v => Assert.Equal(1f, v));
                Assert.All(bn.RunningVar.ToArray(), v => Assert.Equal(1f, v));
                Assert.False(bn.Frozen, name);
            }
            if (m is Conv2d c)
            {
                // Kaiming normal, fan_out: std √2 / √(out · kh · kw), measured over the layer within 4 standard errors.
                var w = c.Weight.Value.ToArray();
                int fanOut = w.Length / c.Weight.Value.Shape[1];
                double std = Math.Sqrt(w.Select(v => (double)v * v).Average()), want = Math.Sqrt(2.0 / fanOut);
                Assert.InRange(std, want * (1 - 4 / Math.Sqrt(2.0 * w.Length)), want * (1 + 4 / Math.Sqrt(2.0 * w.Length)));
            }
        }
        // Drawn afresh: not the named backbone's weights.
        Assert.NotEqual(trained.StateDict()["conv1.weight"].ToArray(), scratch.StateDict()["conv1.weight"].ToArray());
    }

    [Fact]
    public void Names_are_checked_through_the_scratch_prefix_and_registered_providers()
    {
        Assert.True(DetectionBackbones.IsKnown("scratch:mobilenet_v2"));
        Assert.False(DetectionBackbones.IsKnown("scratch:vgg16"));
        Assert.False(DetectionBackbones.IsKnown("test-backbone"));
        DetectionBackbones.Register("test-backbone", n => n == "test-backbone", (_, w, seed) => ResNet.ResNet18(0, 8, seed));
        Assert.True(DetectionBackbones.IsKnown("test-backbone"));
        Assert.True(DetectionBackbones.IsKnown("scratch:test-backbone"));
        Assert.Contains("test-backbone", DetectionBackbones.Known);
        Assert.Equal(8, DetectionBackbones.Create("test-backbone", 1f, new Rng(0)).StageChannels[0]);
        var e = Assert.Throws<ArgumentException>(() => DetectionBackbones.Create("vgg16", 1f, new Rng(0)));
        Assert.Contains("scratch:NAME", e.Message);
    }
}
