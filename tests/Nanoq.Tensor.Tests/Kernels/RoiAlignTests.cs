using System.Text.Json;
using FsCheck.Xunit;
using Nanoq.Kernels;

namespace Nanoq.Tests.Kernels;

public class RoiAlignTests
{
    private static JsonElement Fixture() => JsonDocument.Parse(File.ReadAllBytes(
        Path.Combine(AppContext.BaseDirectory, "data", "torchvision", "roi_align.json"))).RootElement;

    private static float[] Floats(JsonElement e, string f) => e.GetProperty(f).EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();

    /// <summary>torchvision 0.14's ops.roi_align, forward and input gradient, over the fixture's grid of settings: bit for bit
    /// (same float32 operations in the same order).</summary>
    [Fact]
    public void Matches_torchvision_forward_and_backward()
    {
        var fx = Fixture();
        var dims = fx.GetProperty("shape").EnumerateArray().Select(v => v.GetInt32()).ToArray();
        int n = dims[0], c = dims[1], h = dims[2], w = dims[3];
        var x = Floats(fx, "input");
        var cases = fx.GetProperty("cases").EnumerateArray().ToList();
        Assert.True(cases.Count >= 19, $"only {cases.Count} roi_align cases");
        foreach (var cs in cases)
        {
            string name = cs.GetProperty("name").GetString()!;
            var rois = Floats(cs, "rois");
            int ph = cs.GetProperty("pooled_h").GetInt32(), pw = cs.GetProperty("pooled_w").GetInt32();
            float scale = (float)cs.GetProperty("spatial_scale").GetDouble();
            int sampling = cs.GetProperty("sampling_ratio").GetInt32();
            bool aligned = cs.GetProperty("aligned").GetBoolean();
            var expected = Floats(cs, "output");
            var y = new float[expected.Length];
            RoiAlign.Forward(x, n, c, h, w, rois, ph, pw, scale, sampling, aligned, y);
            Check.Same(expected, y, what: name + " forward");

            var g = Floats(cs, "grad_output");
            var dx = new float[x.Length];
            dx.AsSpan().Fill(float.NaN);   // Backward overwrites
            RoiAlign.Backward(g, rois, n, c, h, w, ph, pw, scale, sampling, aligned, dx);
            Check.Same(Floats(cs, "grad_input"), dx, what: name + " backward");

            var naive = RoiAlignReference.Forward(x, n, c, h, w, rois, ph, pw, scale, sampling, aligned);
            Check.Close(naive, y, rtol: 1e-5, atol: 1e-5, what: name + " naive");
        }
    }

    /// <summary>Against the naive reference on random maps and RoIs (in, partly out, inverted), every setting.</summary>
    [Property(MaxTest = 60)]
    public bool Agrees_with_the_naive_reference(int seed)
    {
        var rng = new Rng((ulong)seed);
        int n = rng.NextInt(1, 3), c = rng.NextInt(1, 4), h = rng.NextInt(1, 9), w = rng.NextInt(1, 9);
        int ph = rng.NextInt(1, 4), pw = rng.NextInt(1, 4), sampling = rng.NextInt(-1, 4);
        float scale = new[] { 1f, 0.5f, 0.25f }[rng.NextInt(3)];
        bool aligned = rng.NextInt(2) == 1;
        var x = Data.Uniform(rng, n * c * h * w);
        var rois = RandomRois(rng, rng.NextInt(0, 6), n, h / scale, w / scale);
        var y = new float[rois.Length / 5 * c * ph * pw];
        RoiAlign.Forward(x, n, c, h, w, rois, ph, pw, scale, sampling, aligned, y);
        var e = RoiAlignReference.Forward(x, n, c, h, w, rois, ph, pw, scale, sampling, aligned);
        for (int i = 0; i < y.Length; i++)
            if (Math.Abs(y[i] - e[i]) > 1e-5 + 1e-5 * Math.Abs(e[i])) return false;
        return true;
    }

    /// <summary>The backward is the adjoint of the (linear) forward: ⟨RoiAlign(x), g⟩ = ⟨x, RoiAlignBackward(g)⟩.</summary>
    [Property(MaxTest = 60)]
    public bool Backward_is_the_adjoint(int seed)
    {
        var rng = new Rng((ulong)seed);
        int n = rng.NextInt(1, 3), c = rng.NextInt(1, 4), h = rng.NextInt(1, 9), w = rng.NextInt(1, 9);
        int ph = rng.NextInt(1, 4), pw = rng.NextInt(1, 4), sampling = rng.NextInt(-1, 4);
        bool aligned = rng.NextInt(2) == 1;
        var x = Data.Uniform(rng, n * c * h * w);
        var rois = RandomRois(rng, rng.NextInt(0, 6), n, h, w);
        var y = new float[rois.Length / 5 * c * ph * pw];
        var g = Data.Uniform(rng, y.Length);
        var dx = new float[x.Length];
        RoiAlign.Forward(x, n, c, h, w, rois, ph, pw, 1f, sampling, aligned, y);
        RoiAlign.Backward(g, rois, n, c, h, w, ph, pw, 1f, sampling, aligned, dx);
        double a = Data.Dot(y, g), b = Data.Dot(x, dx);
        return Math.Abs(a - b) <= 1e-4 * (1 + Math.Abs(a));
    }

    /// <summary>RoIAlign of a constant map is that constant wherever every sampling point lands on the map.</summary>
    [Property(MaxTest = 100)]
    public bool Constant_map_gives_the_constant(int seed)
    {
        var rng = new Rng((ulong)seed);
        int c = rng.NextInt(1, 3), h = rng.NextInt(1, 10), w = rng.NextInt(1, 10);
        int ph = rng.NextInt(1, 4), pw = rng.NextInt(1, 4), sampling = rng.NextInt(-1, 4);
        bool aligned = rng.NextInt(2) == 1;
        float value = rng.Uniform(-3f, 3f);
        var x = new float[c * h * w];
        x.AsSpan().Fill(value);
        // RoIs inside the map (with at least one pixel of size, so aligned RoIs are not inverted).
        int k = rng.NextInt(1, 5);
        var rois = new float[5 * k];
        for (int r = 0; r < k; r++)
        {
            float x1 = rng.Uniform(0f, w - 1f), y1 = rng.Uniform(0f, h - 1f);
            rois[5 * r + 1] = x1; rois[5 * r + 2] = y1;
            rois[5 * r + 3] = rng.Uniform(x1 + 0.5f, w); rois[5 * r + 4] = rng.Uniform(y1 + 0.5f, h);
        }
        var y = new float[k * c * ph * pw];
        RoiAlign.Forward(x, 1, c, h, w, rois, ph, pw, 1f, sampling, aligned, y);
        return y.All(v => Math.Abs(v - value) <= 1e-5f * (1 + Math.Abs(value)));
    }

    [Fact]
    public void Empty_roi_set_gives_empty_output_and_zero_gradient()
    {
        var x = new float[2 * 3 * 4];
        var dx = new float[x.Length];
        dx.AsSpan().Fill(7f);
        RoiAlign.Forward(x, 2, 3, 2, 2, [], 2, 2, 1f, 2, false, []);
        RoiAlign.Backward([], [], 2, 3, 2, 2, 2, 2, 1f, 2, false, dx);
        Assert.All(dx, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Rejects_a_batch_index_outside_the_batch()
    {
        var x = new float[4];
        Assert.Throws<ArgumentException>(() => RoiAlign.Forward(x, 1, 1, 2, 2, [1f, 0, 0, 1, 1], 1, 1, 1f, 2, false, new float[1]));
        Assert.Throws<ArgumentException>(() => RoiAlign.Forward(x, 1, 1, 2, 2, [-1f, 0, 0, 1, 1], 1, 1, 1f, 2, false, new float[1]));
    }

    /// <summary>Random RoIs around a map of the given image size: inside, partly outside, inverted or degenerate.</summary>
    internal static float[] RandomRois(Rng rng, int k, int n, float imageH, float imageW)
    {
        var rois = new float[5 * k];
        for (int r = 0; r < k; r++)
        {
            rois[5 * r] = rng.NextInt(n);
            rois[5 * r + 1] = rng.Uniform(-0.3f * imageW, 1.1f * imageW);
            rois[5 * r + 2] = rng.Uniform(-0.3f * imageH, 1.1f * imageH);
            rois[5 * r + 3] = rois[5 * r + 1] + rng.Uniform(-0.2f * imageW, 0.9f * imageW);
            rois[5 * r + 4] = rois[5 * r + 2] + rng.Uniform(-0.2f * imageH, 0.9f * imageH);
        }
        return rois;
    }
}
