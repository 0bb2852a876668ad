using System.Globalization;
using Nanoq.Autograd;
using Nanoq.Quant.Integer.Program;
using Xunit.Abstractions;

namespace Nanoq.Detection.Tests.Integer;

/// <summary>
/// The integer detector against the fake-quant model it came from, through the float edges: where an output code equals
/// the fake-quant model's code (computed independently: FakeQuant.Codes of its float output), the dequantized value is
/// bit-identical to the fake-quant value — so a dequantizer that, say, dropped the zero point fails here — and the
/// detections decoded from equal outputs are equal.
/// </summary>
public class IntegerDetectionTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("resnet18")]
    [InlineData("mobilenet_v2")]
    public void Equal_codes_dequantize_to_the_fake_quant_models_exact_values(string backbone)
    {
        var d = new QuantizedDetector(QuantizedDetector.Tiny(backbone), 41, liveHeads: true);
        var net = d.Convert();
        var images = QuantizedDetector.Images(new Rng(9), 2, 64);
        var (reference, fakeQuant) = d.Reference(images);
        var program = net.Model.Program;
        var names = program.Outputs.Select(id => program.Values[id].Name).ToList();
        // Every op but the output layers gets the reference's codes (teacher forcing), so the output layers compute
        // from the fake-quant model's own inputs and their codes mostly agree; then the float edge dequantizes them.
        var outs = program.Run([net.Model.Quantize(0, images)], new ForceAllBut(reference, names.ToHashSet()));
        Assert.Equal(fakeQuant.Length, outs.Count);
        long equal = 0, total = 0;
        for (int o = 0; o < fakeQuant.Length; o++)
        {
            var want = reference[names[o]];
            var codes = outs[o];
            using var dq = net.Model.Dequantize(o, codes);
            var got = dq.Span;
            var fq = fakeQuant[o].Span;
            Assert.Equal(fakeQuant[o].Shape, dq.Shape);
            for (int i = 0; i < got.Length; i++)
            {
                total++;
                if (codes.Data[i] != want.Data[i]) continue;
                equal++;
                Assert.Equal(fq[i], got[i]); // bit for bit: x̂ = (q − z)·Δ on both sides
            }
        }
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{backbone}: {equal} of {total} output codes equal ({(double)equal / total:P2})"));
        Assert.True(equal >= 0.95 * total, $"only {equal} of {total} output codes equal");
    }

    private sealed class ForceAllBut(Dictionary<string, CodeTensor> reference, HashSet<string> outputs) : IIntOpHook
    {
        public CodeTensor? AfterOp(IntOp op, IReadOnlyList<CodeTensor> inputs, CodeTensor output) =>
            outputs.Contains(op.Name) ? null : reference[op.Name].Clone();
    }

    [Theory]
    [InlineData("resnet18")]
    [InlineData("mobilenet_v2")]
    public void Detections_match_the_fake_quant_models_at_8_bits(string backbone)
    {
        // A score threshold of 0 so the random detector reports its 100 best boxes an image; 8 bits, where a code step
        // is small enough that boxes from differing codes still overlap.
        var config = QuantizedDetector.Tiny(backbone) with { ScoreThreshold = 0f, MaxDetections = 100 };
        var d = new QuantizedDetector(config, 41, bits: 8);
        var net = d.Convert();
        var images = QuantizedDetector.Images(new Rng(9), 2, 64);
        var sizes = new[] { (64, 64), (64, 60) };
        var want = d.Model.Detect(images, sizes);
        var got = net.Detect(images, sizes);

        int matched = 0, total = 0;
        double iouSum = 0, scoreDiff = 0;
        for (int i = 0; i < want.Count; i++)
        {
            Assert.True(got[i].Count > 0);
            var used = new bool[got[i].Count];
            for (int a = 0; a < want[i].Count; a++)
            {
                total++;
                int best = -1;
                float bestIou = 0.5f;
                for (int b = 0; b < got[i].Count; b++)
                {
                    if (used[b] || got[i].Labels[b] != want[i].Labels[a]) continue;
                    float iou = Iou(want[i].Boxes.AsSpan(4 * a, 4), got[i].Boxes.AsSpan(4 * b, 4));
                    if (iou > bestIou) (best, bestIou) = (b, iou);
                }
                if (best < 0) continue;
                used[best] = true;
                matched++;
                iouSum += bestIou;
                scoreDiff = Math.Max(scoreDiff, Math.Abs(want[i].Scores[a] - got[i].Scores[best]));
            }
        }
        double rate = (double)matched / total, meanIou = iouSum / Math.Max(1, matched);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{backbone}: {matched} of {total} fake-quant detections have an integer twin (same class, IoU > 0.5): {rate:P1}, mean IoU {meanIou:F3}, max |Δscore| {scoreDiff:G3}"));
        Assert.True(rate >= 0.9, $"only {rate:P1} matched");
        Assert.True(meanIou >= 0.9, $"mean IoU {meanIou:F3}");
        Assert.True(scoreDiff <= 0.05, $"scores differ by up to {scoreDiff:G3}");
    }

    private static float Iou(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        float iw = Math.Max(0, Math.Min(a[2], b[2]) - Math.Max(a[0], b[0])), ih = Math.Max(0, Math.Min(a[3], b[3]) - Math.Max(a[1], b[1]));
        float inter = iw * ih, union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
        return union > 0 ? inter / union : 0;
    }
}
