using System.Globalization;
using Nanoq.Kernels.Integer;
using Nanoq.Quant.Integer.Program;
using Nanoq.Nn.Taps;
using Nanoq.Quant.Taps;
using Xunit.Abstractions;

namespace Nanoq.Detection.Tests.Integer;

/// <summary>
/// One converted conv unit at a time, given the fake-quant model's own input codes: every output code the integer unit
/// gets differently from the fake-quant model must be explained by rounding — its exact value
/// <code>
///     t = (Σ (w_q − z_w)(x_q − z_x) · Δ_w Δ_x + b_fold) / Δ_y + z_y          (in double)
/// </code>
/// lies within the conversion's error budget of a rounding boundary (a half step), and the codes differ by one step:
/// budget = |bias_q Δ_w Δ_x − b_fold| / Δ_y (the bias on the int32 grid) + ½·2^shift (double rounding's first rounding
/// is to 2^shift output steps; 0 for single rounding) + 10⁻⁶. Covers BN folding with ReLU (ResNet), the depthwise conv
/// with ReLU6 (MobileNetV2) and an FPN conv with its own bias.
/// </summary>
public class ConvUnitAgreementTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("resnet18", "backbone.layer1.0.conv1", RequantRounding.Double)]
    [InlineData("resnet18", "backbone.layer2.0.downsample.unit", RequantRounding.Double)]
    [InlineData("resnet18", "fpn.output3", RequantRounding.Double)]
    [InlineData("resnet18", "fpn.output3", RequantRounding.Single)]
    [InlineData("mobilenet_v2", "backbone.features.2.conv.1.unit", RequantRounding.Double)]
    [InlineData("mobilenet_v2", "backbone.features.2.conv.1.unit", RequantRounding.Single)]
    public void EveryDifferenceIsARoundingNearTie(string backbone, string name, RequantRounding rounding)
    {
        var d = new QuantizedDetector(QuantizedDetector.Tiny(backbone), 31);
        var net = d.Convert(rounding).Model;
        var images = QuantizedDetector.Images(new Rng(8), 2, 64);
        var (reference, _) = d.Reference(images);
        var unit = (ConvUnit)d.Model.NamedTaps().Single(t => t.Name == name).Tap;
        var conv = (IntConvOp)net.Program.Op(name);

        var hook = new AgreementHook(reference, force: true) { Capture = name };
        net.Program.Run([net.Quantize(0, images)], hook);
        var x = hook.CapturedInputs![0];
        var got = hook.CapturedOutput!;
        var want = reference[name];

        var (w, b) = FoldedConv.Folded(unit);
        var wq = ((Quant.Quantizers.FakeQuantizer)unit.WeightQuantizer!).Describe().ToChannelQParams();
        var gy = net.Grid(conv.Output);
        var layer = conv.Layer;
        var g = layer.Geometry(x.Batch, x.Height, x.Width);
        int k = g.PatchSize, differ = 0;
        double worst = 0;
        for (int i = 0; i < want.Length; i++)
        {
            if (got.Data[i] == want.Data[i]) continue;
            differ++;
            Assert.Equal(1, Math.Abs(got.Data[i] - want.Data[i]));
            int ox = i % g.OutWidth, oy = i / g.OutWidth % g.OutHeight, c = i / g.OutputPlane % g.OutChannels, n = i / (g.OutputPlane * g.OutChannels);
            long dot = 0;
            int group = c / g.GroupOutChannels;
            for (int ci = 0; ci < g.GroupInChannels; ci++)
                for (int ky = 0; ky < g.KernelH; ky++)
                    for (int kx = 0; kx < g.KernelW; kx++)
                    {
                        int iy = oy * g.StrideH - g.PadH + ky, ix = ox * g.StrideW - g.PadW + kx;
                        int xv = (uint)iy < (uint)g.Height && (uint)ix < (uint)g.Width ? x[n, group * g.GroupInChannels + ci, iy, ix] : x.ZeroPoint;
                        dot += (long)(layer.Weights.Codes[c * k + (ci * g.KernelH + ky) * g.KernelW + kx] - wq.ZeroPoints[c]) * (xv - x.ZeroPoint);
                    }
            // Δ_w Δ_x = M·Δ_y, with M as the integer layer carries it (relative error ≤ 2^−30).
            double unitScale = Math.ScaleB(layer.Requantization.Multiplier(c), layer.Requantization.Shift(c) - 31) * gy.Scale;
            double t = (dot * unitScale + b.Span[c]) / gy.Scale + gy.ZeroPoint;
            double biasError = Math.Abs(layer.Bias[c] * unitScale - b.Span[c]) / gy.Scale;
            double rqError = rounding == RequantRounding.Double ? 0.5 * Math.ScaleB(1.0, layer.Requantization.Shift(c)) : 0;
            double fromTie = Math.Abs(t - Math.Floor(t) - 0.5);
            worst = Math.Max(worst, fromTie);
            Assert.True(fromTie <= biasError + rqError + 1e-6,
                string.Create(CultureInfo.InvariantCulture, $"[{n}, {c}, {oy}, {ox}]: t = {t:F6} is {fromTie:G4} from a tie, budget {biasError:G4} + {rqError:G4}"));
        }
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name} ({rounding}): {differ} of {want.Length} codes differ ({(double)differ / want.Length:P2}), each at most {worst:G3} from a tie"));
        Assert.True(differ <= 0.05 * want.Length);
    }
}
