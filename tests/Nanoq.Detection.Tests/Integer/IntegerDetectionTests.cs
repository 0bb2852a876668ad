using System.Globalization;
using Nanoq.Autograd;
using Xunit.Abstractions;

namespace Nanoq.Detection.Tests.Integer;

/// <summary>
/// The integer detector against the fake-quant model it came from, on the same images. Both postprocess with
/// <see cref="RetinaNetDecoding"/>, so equal head codes give bit-identical detections (shown at 4 bits); where codes
/// differ by a step the detections differ a little (shown at 8 bits: a 4-bit detector's 16 score levels tie hundreds
/// of anchors, so which of them fill the top 100 is decided by index order, and one changed code reshuffles the tail —
/// a comparison of two 4-bit detection lists measures tie-breaking, not arithmetic).
/// </summary>
public class IntegerDetectionTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("resnet18")]
    [InlineData("mobilenet_v2")]
    public void The_integer_heads_decode_exactly_as_the_fake_quant_models_postprocess_does(string backbone)
    {
        var config = QuantizedDetector.Tiny(backbone) with { ScoreThreshold = 0f, MaxDetections = 100 };
        var d = new QuantizedDetector(config, 41);
        var net = IntegerConverter.Convert(d.Model, d.Registry);
        var images = QuantizedDetector.Images(new Rng(9), 2, 64);
        var sizes = new[] { (64, 64), (64, 60) };
        var got = net.Detect(images, sizes);
        var want = d.Model.Postprocess(net.Forward(images), sizes);
        for (int i = 0; i < sizes.Length; i++)
        {
            Assert.Equal(100, got[i].Count);
            Assert.Equal(want[i].Boxes, got[i].Boxes);
            Assert.Equal(want[i].Scores, got[i].Scores);
            Assert.Equal(want[i].Labels, got[i].Labels);
        }
    }

    [Theory]
    [InlineData("resnet18")]
    [InlineData("mobilenet_v2")]
    public void DetectionsMatchTheFakeQuantModel(string backbone)
    {
        // A score threshold of 0 so the random detector reports its 100 best boxes an image; 8 bits (see the summary).
        var config = QuantizedDetector.Tiny(backbone) with { ScoreThreshold = 0f, MaxDetections = 100 };
        var d = new QuantizedDetector(config, 41, bits: 8);
        var net = IntegerConverter.Convert(d.Model, d.Registry);
        var images = QuantizedDetector.Images(new Rng(9), 2, 64);
        var sizes = new[] { (64, 64), (64, 60) };
        var want = d.Model.Detect(images, sizes);
        var got = net.Detect(images, sizes);

        // Same detector interface: RetinaNet.Forward's heads and the integer heads dequantized have equal shapes.
        RetinaNetOutput fq;
        using (GradMode.NoGrad()) fq = d.Model.Forward(new Var(images));
        var io = net.Forward(images);
        Assert.Equal(fq.Logits.Shape, io.Logits.Shape);
        Assert.Equal(fq.GridSizes, io.GridSizes);

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
