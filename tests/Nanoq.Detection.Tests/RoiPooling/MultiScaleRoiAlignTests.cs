using System.Text.Json;
using Nanoq.Autograd;
using Nanoq.Kernels;
using Nanoq.Kernels.Integer;
using Xunit.Abstractions;

namespace Nanoq.Detection.Tests.RoiPooling;

public class MultiScaleRoiAlignTests(ITestOutputHelper output)
{
    /// <summary>The fixture's feature formula, exact in float32: ((i·31 + j·17 + c·7 + b·13 + level·5) mod 23) / 8.</summary>
    private static Tensor Features(int n, int c, int h, int w, int level)
    {
        var t = Tensor.Empty(n, c, h, w);
        var s = t.Span;
        int k = 0;
        for (int b = 0; b < n; b++)
            for (int ch = 0; ch < c; ch++)
                for (int i = 0; i < h; i++)
                    for (int j = 0; j < w; j++)
                        s[k++] = ((i * 31 + j * 17 + ch * 7 + b * 13 + level * 5) % 23) / 8f;
        return t;
    }

    private static (int, int)[] Pairs(JsonElement e, string field) =>
        e.GetProperty(field).EnumerateArray().Select(p => (p[0].GetInt32(), p[1].GetInt32())).ToArray();

    /// <summary>torchvision's MultiScaleRoIAlign on P2–P5: inferred scales, LevelMapper levels (exact), pooled values.</summary>
    [Fact]
    public void Matches_torchvision()
    {
        var fx = TorchvisionFixture.Json("multiscale_roi_align.json");
        foreach (var cs in fx.Cases("cases"))
        {
            int n = cs.Int("batch"), c = cs.Int("channels");
            var sizes = Pairs(cs, "feature_sizes");
            var images = Pairs(cs, "image_shapes");
            var boxes = cs.GetProperty("boxes").EnumerateArray().Select(b => b.EnumerateArray().Select(v => (float)v.GetDouble()).ToArray()).ToArray();
            var pooler = new MultiScaleRoiAlign(cs.Int("pooled_h"), cs.Int("pooled_w"), cs.Int("sampling_ratio"));
            var levels = pooler.AssignLevels(boxes, sizes, images);
            Assert.Equal(cs.Floats("scales"), levels.Scales);
            Assert.Equal(cs.Ints("levels"), levels.Levels);
            var feats = sizes.Select((s, l) => new Var(Features(n, c, s.Item1, s.Item2, l))).ToArray();
            var y = pooler.Forward(feats, boxes, images);
            TorchvisionFixture.Close(cs.Floats("output"), y.Value.Span, 1e-5, 1e-6, cs.Name());
        }
    }

    /// <summary>Hand cases of the FPN heuristic: 112² → k0 − 1 exactly at the boundary (eps after the log), 224² → k0, clamps.</summary>
    [Fact]
    public void LevelMapper_hand_cases()
    {
        var m = new LevelMapper(2, 5);
        Assert.Equal(2, m.Level(0, 0, 224, 224));       // k = 4 → index 2
        Assert.Equal(1, m.Level(0, 0, 112, 112));       // k = 3
        Assert.Equal(0, m.Level(0, 0, 111.9f, 111.9f)); // k = 2
        Assert.Equal(3, m.Level(0, 0, 448, 448));       // k = 5
        Assert.Equal(3, m.Level(0, 0, 2000, 2000));     // clamped to k_max
        Assert.Equal(0, m.Level(0, 0, 1, 1));           // clamped to k_min
        Assert.Equal(0, m.Level(0, 0, 0, 0));           // log2(0) = −∞ → k_min
    }

    [Fact]
    public void InferScale_rounds_the_ratio_to_a_power_of_two()
    {
        Assert.Equal(0.25f, MultiScaleRoiAlign.InferScale(200, 800));
        Assert.Equal(0.25f, MultiScaleRoiAlign.InferScale(25, 100));
        Assert.Equal(0.125f, MultiScaleRoiAlign.InferScale(13, 100));   // log2(0.13) = −2.94 → −3
        Assert.Equal(0.03125f, MultiScaleRoiAlign.InferScale(4, 100));
    }

    /// <summary>The pooled rows come back in the order of the boxes, whatever level pools them, and gradients reach each level.</summary>
    [Fact]
    public void Rows_follow_the_boxes_and_gradients_reach_every_level()
    {
        var pooler = new MultiScaleRoiAlign(2, 2, 2);
        var sizes = new[] { (64, 64), (32, 32), (16, 16), (8, 8) };
        var feats = sizes.Select((s, l) => new Var(Features(1, 1, s.Item1, s.Item2, l), requiresGrad: true)).ToArray();
        float[] boxes = [0, 0, 200, 200, 0, 0, 20, 20, 0, 0, 250, 250, 10, 10, 120, 120];
        var images = new[] { (256, 256) };
        var levels = pooler.AssignLevels([boxes], sizes, images);
        var y = pooler.Forward(feats, [boxes], images);
        for (int k = 0; k < 4; k++)
        {
            var single = Fn.RoiAlign(feats[levels.Levels[k]], Tensor.FromArray(levels.Rois[(5 * k)..(5 * k + 5)], 1, 5), 2, 2,
                                     levels.Scales[levels.Levels[k]], 2);
            Assert.Equal(single.Value.ToArray(), y.Value.ToArray()[(4 * k)..(4 * k + 4)]);
        }
        Fn.Sum(y).Backward();
        foreach (int l in levels.Levels.Distinct()) Assert.NotNull(feats[l].Grad);
    }

    /// <summary>
    /// The integer multi-scale path (a plan per level, rows scattered by <see cref="RoiLevels.PerLevel"/>) on 4-bit codes
    /// with one grid shared by the levels, against the fake-quant model (float MultiScaleRoiAlign of the dequantized maps,
    /// rounded onto the grid). Faster R-CNN's settings: 7×7, sampling 2, P2–P5 of a 256×320 image, 2 images, 40 RoIs.
    /// </summary>
    [Fact]
    public void Integer_path_agrees_with_the_fake_quant_model()
    {
        var rng = new Rng(11);
        var pooler = new MultiScaleRoiAlign();
        int n = 2, c = 4, bits = 4, z = 5;
        float delta = 0.173f;
        var sizes = new[] { (64, 80), (32, 40), (16, 20), (8, 10) };
        var images = new[] { (256, 320), (240, 300) };
        var codes = sizes.Select(s => { var a = new byte[n * c * s.Item1 * s.Item2]; for (int i = 0; i < a.Length; i++) a[i] = (byte)rng.NextInt(1 << bits); return a; }).ToArray();
        var boxes = Enumerable.Range(0, n).Select(_ =>
        {
            var b = new float[4 * 20];
            for (int k = 0; k < 20; k++)
            {
                float x1 = rng.Uniform(-10f, 300f), y1 = rng.Uniform(-10f, 230f), side = MathF.Exp(rng.Uniform(2f, 5.5f));
                b[4 * k] = x1; b[4 * k + 1] = y1; b[4 * k + 2] = x1 + side * rng.Uniform(0.5f, 2f); b[4 * k + 3] = y1 + side;
            }
            return b;
        }).ToArray();
        var levels = pooler.AssignLevels(boxes, sizes, images);
        Assert.True(levels.PerLevel.Count(p => p.Length > 0) >= 3, "the RoIs should spread over the levels");

        var plans = pooler.BuildPlans(levels, sizes, n);
        var yi = new byte[levels.Count * c * 49];
        for (int l = 0; l < sizes.Length; l++) IntRoiAlign.Forward(plans[l], codes[l], n, c, z, yi, levels.PerLevel[l]);

        var feats = sizes.Select((s, l) => new Var(Tensor.FromArray(codes[l].Select(q => (q - z) * delta).ToArray(), n, c, s.Item1, s.Item2))).ToArray();
        var yf = pooler.Forward(feats, levels).Value.ToArray();
        var expected = new byte[yf.Length];
        RoiAlignOnGrid.RoundToGrid(yf, delta, z, 0, (1 << bits) - 1, expected);
        int same = 0, maxDiff = 0;
        for (int i = 0; i < yi.Length; i++)
        {
            if (yi[i] == expected[i]) same++;
            maxDiff = Math.Max(maxDiff, Math.Abs(yi[i] - expected[i]));
        }
        output.WriteLine($"multi-scale 4-bit: {same}/{yi.Length} identical ({(double)same / yi.Length:P3}), max {maxDiff} step(s)");
        Assert.True(same >= 0.99 * yi.Length, $"only {same}/{yi.Length} identical codes");
        Assert.True(maxDiff <= 1);
    }

    /// <summary>Gradients through the level split, the per-level RoIAlign and the re-ordering, against central differences.</summary>
    [Fact]
    public void GradCheck_over_two_levels()
    {
        var pooler = new MultiScaleRoiAlign(2, 3, 2, canonicalScale: 16, canonicalLevel: 2);
        float[] boxes = [1, 2, 9, 12, 0, 0, 32, 32, 4, 4, 7, 6, 0.5f, 1, 31, 31.5f];
        var images = new[] { (32, 32) };
        var levels = pooler.AssignLevels([boxes], [(8, 8), (4, 4)], images);
        Assert.Equal(2, levels.Levels.Distinct().Count());
        var rng = new Rng(2);
        var r = GradCheck.Check(v => pooler.Forward(v, [boxes], images), [rng.Normal(new Shape(1, 2, 8, 8)), rng.Normal(new Shape(1, 2, 4, 4))],
                                maxChecksPerInput: 128);
        Assert.True(r.Ok, r.Detail);
    }
}
