using System.Globalization;
using System.Text.Json;
using Nanoq.Nn.Checkpoints;
using Nanoq.Quant;
using Nanoq.Quant.Integer.Program;
using Nanoq.Quant.Quantizers;
using Nanoq.Quant.Taps;

namespace Nanoq.Detection.Tests.Integer;

/// <summary>
/// Issue 13's bar: the one integer program reproduces, bit for bit, the head codes the RetinaNet-specific integer runtime
/// (IntResNet, IntMobileNetV2, IntFeaturePyramid, IntRetinaNetHead — deleted with this change) computed for tiny 4-bit
/// RetinaNets of every backbone. The fixtures (data/legacy-integer, written by that runtime before its deletion; the
/// writer is in the commit that added them) hold each model's float state, every activation grid by its old quantizer
/// name, two images, their codes and the old runtime's head codes. Kept as a regression test of the interpreter.
/// </summary>
public class LegacyRuntimeRegressionTests
{
    [Theory]
    [InlineData("resnet18")]
    [InlineData("resnet34")]
    [InlineData("resnet50")]
    [InlineData("mobilenet_v2")]
    public void The_program_reproduces_the_old_runtimes_head_codes_bit_for_bit(string backbone)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "data", "legacy-integer", backbone + ".safetensors");
        var tensors = Safetensors.Load(path, out var meta);
        var config = JsonSerializer.Deserialize<RetinaNetConfig>(meta["config"])!;
        var grids = JsonSerializer.Deserialize<Dictionary<string, string>>(meta["grids"])!;
        var model = new Detection.RetinaNet(config);
        model.LoadStateDict(StateDicts.Unprefixed(tensors, "model."));
        var registry = ModelQuantizer.Install(model, QuantRecipe.Fqn(4));
        // Old names: "input", "<conv tap>.out", "<add>.out"; new: the tap path + ".activation_post_process".
        foreach (var (old, value) in grids)
        {
            string tap = old == "input" ? "input" : old[..^".out".Length];
            var parts = value.Split(' ');
            var q = new QParams(float.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture), int.Parse(parts[2], CultureInfo.InvariantCulture));
            ((ActQuantizer)registry[tap + ".activation_post_process"]).SetQParams(q);
        }
        Assert.Equal(grids.Count, registry.Activations.Count());
        var net = Detectors.Convert(model, Tensor.Zeros(1, 3, 64, 64)).Model;

        var images = tensors["images"];
        var input = net.Quantize(0, images);
        Assert.Equal(Codes(tensors["input_codes"]), input.Data);
        var outs = net.Program.Run([input]);
        // Old layout: logits [N, ΣHWA, K] and deltas [N, ΣHWA, 4]; new: the per-level maps [N, A·C, H, W].
        var logits = Flatten(outs.Take(5).ToList(), 9, config.NumClasses);
        var deltas = Flatten(outs.Skip(5).ToList(), 9, 4);
        Assert.Equal(Codes(tensors["logits_codes"]), logits);
        Assert.Equal(Codes(tensors["deltas_codes"]), deltas);
        Assert.True(logits.Distinct().Count() > 8 && deltas.Distinct().Count() > 8, "the fixture's codes must not be degenerate");
    }

    private static byte[] Codes(Tensor t) => t.ToArray().Select(v => (byte)v).ToArray();

    /// <summary>[N, A·C, H, W] per level → [N, ΣH·W·A, C], the old runtime's layout.</summary>
    private static byte[] Flatten(IReadOnlyList<CodeTensor> maps, int anchors, int c)
    {
        int n = maps[0].Batch, total = maps.Sum(m => m.Height * m.Width * anchors);
        var r = new byte[n * total * c];
        int start = 0;
        foreach (var m in maps)
        {
            for (int b = 0; b < n; b++)
                for (int a = 0; a < anchors; a++)
                    for (int k = 0; k < c; k++)
                        for (int y = 0; y < m.Height; y++)
                            for (int x = 0; x < m.Width; x++)
                                r[(b * total + start + (y * m.Width + x) * anchors + a) * c + k] = m[b, a * c + k, y, x];
            start += m.Height * m.Width * anchors;
        }
        return r;
    }
}
