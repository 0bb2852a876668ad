using Nanoq.Autograd;

namespace Nanoq.Detection.Tests.RetinaNet;

/// <summary>
/// RetinaNet's label assignment and training loss against torchvision 0.14 (tools/gen_rule_fixtures.py →
/// retinanet_loss.json): <c>Matcher(0.5, 0.4, allow_low_quality_matches=True)</c> on box_iou(gt, anchors), then
/// <c>RetinaNetHead.compute_loss</c> — focal loss over every anchor except the BETWEEN_THRESHOLDS ones, L1 box loss over
/// the foreground, each image's sums divided by its own foreground count (at least 1), then the mean over the images.
/// Three 32×32 images with 3, 2 and 0 boxes (16, 10 and 0 foreground anchors; 12 and 8 anchors with IoU in [0.4, 0.5)),
/// so treating the in-between anchors as background, dividing by the batch's foreground count, or forgetting the mean
/// over images each moves the numbers far outside the tolerance.
/// </summary>
public class RetinaNetLossTorchvisionTests
{
    private static readonly System.Text.Json.JsonElement Fx = TorchvisionFixture.Json("retinanet_loss.json");

    private static Detection.RetinaNet Model() =>
        new(RetinaNetConfig.Small(Fx.Int("num_classes")) with
        {
            BackboneWidth = 0.125f, FpnChannels = 8, HeadConvs = 0, InputSize = 32, AnchorSize = Fx.Int("anchor_size"),
            FgIou = (float)Fx.Double("fg_iou"), BgIou = (float)Fx.Double("bg_iou"),
        });

    /// <summary>
    /// The fixture's flat heads (logits [N, A, K], deltas [N, A, 4], torchvision's layout) as RetinaNet's raw outputs —
    /// per level maps [N, 9·C, H, W], leaves whose gradients <see cref="Flat"/> reads back in the flat layout.
    /// </summary>
    private static DetectorOutput Output(out Var[] clsMaps, out Var[] boxMaps)
    {
        int n = Fx.GetProperty("images").GetArrayLength(), k = Fx.Int("num_classes");
        var grids = Fx.GetProperty("grids").EnumerateArray().Select(g => (g[0].GetInt32(), g[1].GetInt32())).ToArray();
        var size = Fx.Ints("image_size");
        clsMaps = Maps(Fx.Floats("logits"), n, k, grids);
        boxMaps = Maps(Fx.Floats("deltas"), n, 4, grids);
        return new DetectorOutput([.. clsMaps, .. boxMaps], size[0], size[1]);
    }

    private const int AnchorsPerLocation = 9;

    private static Var[] Maps(float[] flat, int n, int c, (int H, int W)[] grids)
    {
        int total = grids.Sum(g => g.H * g.W * AnchorsPerLocation), start = 0;
        var maps = new Var[grids.Length];
        for (int l = 0; l < grids.Length; l++)
        {
            var (h, w) = grids[l];
            var t = Tensor.Zeros(n, AnchorsPerLocation * c, h, w);
            for (int b = 0; b < n; b++)
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++)
                        for (int a = 0; a < AnchorsPerLocation; a++)
                            for (int k = 0; k < c; k++)
                                t.Span[((b * AnchorsPerLocation * c + a * c + k) * h + y) * w + x] = flat[(b * total + start + (y * w + x) * AnchorsPerLocation + a) * c + k];
            maps[l] = new Var(t, requiresGrad: true);
            start += h * w * AnchorsPerLocation;
        }
        return maps;
    }

    /// <summary>The maps' gradients in the flat layout [N, A, C].</summary>
    private static float[] Flat(Var[] maps, int c)
    {
        int n = maps[0].Shape[0], total = maps.Sum(m => m.Shape[2] * m.Shape[3] * AnchorsPerLocation), start = 0;
        var flat = new float[n * total * c];
        foreach (var m in maps)
        {
            int h = m.Shape[2], w = m.Shape[3];
            var g = m.Grad!.Span;
            for (int b = 0; b < n; b++)
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++)
                        for (int a = 0; a < AnchorsPerLocation; a++)
                            for (int k = 0; k < c; k++)
                                flat[(b * total + start + (y * w + x) * AnchorsPerLocation + a) * c + k] = g[((b * AnchorsPerLocation * c + a * c + k) * h + y) * w + x];
            start += h * w * AnchorsPerLocation;
        }
        return flat;
    }

    private static DetectionTarget[] Targets() =>
        Fx.Cases("images").Select(im => new DetectionTarget(im.Floats("boxes"), im.Ints("labels"))).ToArray();

    [Fact]
    public void AnchorsAndMatchesAreTorchvisions()
    {
        var model = Model();
        var o = Output(out _, out _);
        var anchors = model.AnchorsFor(o);
        TorchvisionFixture.Close(Fx.Floats("anchors"), anchors.Span, 1e-6, 1.0, "anchors");
        int a = Fx.Int("num_anchors");
        int between = 0;
        foreach (var im in Fx.Cases("images"))
        {
            var t = new DetectionTarget(im.Floats("boxes"), im.Ints("labels"));
            if (t.Count == 0) continue; // torchvision fills −1 (background) without matching; Loss does the same
            var iou = new float[t.Count * a];
            Boxes.Iou(t.Boxes, anchors.Span, iou);
            var matches = new int[a];
            model.Matcher.Match(iou, t.Count, a, matches);
            Assert.Equal(im.Ints("matches"), matches);
            between += matches.Count(m => m == Matcher.BetweenThresholds);
        }
        Assert.Equal(20, between); // 12 + 8: the rule the loss must skip has anchors to act on
    }

    [Fact]
    public void LossIsTorchvisionsComputeLoss()
    {
        var model = Model();
        using var tape = new Tape();
        var l = model.Loss(Output(out _, out _), Targets());
        Assert.Equal(26, l.Foreground);
        // torchvision sums in float32 in another order: a few ulps of the sum.
        Assert.Equal(Fx.Double("classification"), l["classification"].Value.Span[0], 1e-5 * Fx.Double("classification"));
        Assert.Equal(Fx.Double("bbox_regression"), l["box"].Value.Span[0], 1e-5 * Fx.Double("bbox_regression"));
    }

    [Fact]
    public void GradientsAreTorchvisions()
    {
        // An in-between anchor has zero gradient in every class (torchvision drops its rows); a background anchor
        // of image i gets ∂FL/∂x / (max(1, fg_i) · n). The fixture's gradients check both per element.
        var model = Model();
        using var tape = new Tape();
        var l = model.Loss(Output(out var cls, out var box), Targets());
        l.Total.Backward();
        TorchvisionFixture.Close(Fx.Floats("grad_logits"), Flat(cls, Fx.Int("num_classes")), 1e-5, 1e-3, "∂L/∂logits");
        TorchvisionFixture.Close(Fx.Floats("grad_deltas"), Flat(box, 4), 1e-5, 1e-3, "∂L/∂deltas");
    }
}
