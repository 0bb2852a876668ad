using Nanoq.Quant;
using Nanoq.Quant.Kernels;

namespace Nanoq.Tests.Kernels;

/// <summary>
/// The SIMD fake-quant loops against a naive scalar loop written from the formula (DESIGN.md §2: every SIMD kernel
/// is checked against a naive loop over lengths 0..256), and their edge behaviour.
/// </summary>
public class FakeQuantKernelTests
{
    // x̂ = (clamp(round(x · (1/Δ)) + z, 0, 2^k − 1) − z) · Δ, one element at a time, round half to even.
    private static float NaiveForward(float x, float scale, int z, int qmax)
    {
        float inv = 1f / scale;
        float t = MathF.Round(x * inv, MidpointRounding.ToEven) + z;
        if (t < 0f) t = 0f;
        if (t > qmax) t = qmax;
        return (t - z) * scale;
    }

    private static float NaiveBackward(float x, float g, float scale, int z, int qmax)
    {
        float t = MathF.Round(x * (1f / scale), MidpointRounding.ToEven) + z;
        return g * (t >= 0f && t <= qmax ? 1f : 0f);
    }

    private static float[] Values(Rng rng, int n, QParams q)
    {
        var v = new float[n];
        for (int i = 0; i < n; i++)
            v[i] = (i % 4) switch
            {
                0 => (rng.NextInt(-q.ZeroPoint - 3, q.QMax - q.ZeroPoint + 3) + 0.5f) * q.Scale, // ties (and near-ties)
                1 => rng.Uniform(q.Lb - 3 * q.Scale, q.Ub + 3 * q.Scale),
                2 => rng.Normal() * 1000f,                                                     // far out
                _ => rng.NextInt(-q.ZeroPoint, q.QMax - q.ZeroPoint + 1) * q.Scale,             // grid points
            };
        return v;
    }

    [Fact]
    public void Forward_and_backward_match_the_naive_loop_for_lengths_0_to_256()
    {
        var rng = new Rng(7);
        foreach (var q in new[] { QParams.FromRange(-1.3f, 2.7f, 4), new QParams(0.125f, 1, 2), QParams.FromRange(-0.02f, 5f, 8) })
            for (int n = 0; n <= 256; n++)
            {
                var x = Values(rng, n, q);
                var g = new float[n];
                rng.FillNormal(g, 0f, 1f);
                var y = new float[n];
                var dx = new float[n];
                FakeQuantKernels.Forward(x, q.Scale, q.ZeroPoint, q.QMax, y);
                FakeQuantKernels.Backward(x, g, q.Scale, q.ZeroPoint, q.QMax, dx);
                for (int i = 0; i < n; i++)
                {
                    Assert.Equal(TestData.Bits(NaiveForward(x[i], q.Scale, q.ZeroPoint, q.QMax)), TestData.Bits(y[i]));
                    Assert.Equal(TestData.Bits(NaiveBackward(x[i], g[i], q.Scale, q.ZeroPoint, q.QMax)), TestData.Bits(dx[i]));
                }
            }
    }

    [Fact]
    public void Per_channel_loops_match_the_naive_loop()
    {
        var rng = new Rng(8);
        int outer = 3, channels = 5;
        foreach (int inner in new[] { 1, 7, 8, 15, 16, 17, 33 })
        {
            var x = new float[outer * channels * inner];
            rng.FillNormal(x, 0f, 2f);
            var g = new float[x.Length];
            rng.FillNormal(g, 0f, 1f);
            var scales = Enumerable.Range(0, channels).Select(c => 0.05f * (c + 1)).ToArray();
            var zps = Enumerable.Range(0, channels).Select(c => 3 * c).ToArray();
            var y = new float[x.Length];
            var dx = new float[x.Length];
            FakeQuantKernels.ForwardPerChannel(x, outer, channels, inner, scales, zps, 15, y);
            FakeQuantKernels.BackwardPerChannel(x, g, outer, channels, inner, scales, zps, 15, dx);
            for (int i = 0; i < x.Length; i++)
            {
                int c = i / inner % channels;
                Assert.Equal(TestData.Bits(NaiveForward(x[i], scales[c], zps[c], 15)), TestData.Bits(y[i]));
                Assert.Equal(TestData.Bits(NaiveBackward(x[i], g[i], scales[c], zps[c], 15)), TestData.Bits(dx[i]));
            }
        }
    }

    [Fact]
    public void True_ties_round_half_to_even()
    {
        // Δ = 0.25 (1/Δ = 4 exactly), z = 0, 4 bits: x = 0.125 → 0.5 → 0; 0.375 → 1.5 → 2; 0.625 → 2.5 → 2; 0.875 → 3.5 → 4.
        // Repeated to 36 elements so the ties go through the Vector512, Vector256 and scalar paths alike.
        float[] ties = [0.125f, 0.375f, 0.625f, 0.875f], rounded = [0f, 0.5f, 0.5f, 1f];
        var x = Enumerable.Range(0, 36).Select(i => ties[i % 4]).ToArray();
        var y = new float[36];
        FakeQuantKernels.Forward(x, 0.25f, 0, 15, y);
        Assert.Equal(Enumerable.Range(0, 36).Select(i => rounded[i % 4]).ToArray(), y);
    }

    [Fact]
    public void The_mask_is_decided_by_the_rounded_code_half_a_step_beyond_the_range()
    {
        // Δ = 1, z = 1, 2 bits: lb' = −1, ub' = 2. x = −1.5 → round(−1.5) = −2, t = −1: outside. x = −1.49 → t = 0: inside.
        // x = 2.5 = ub' + Δ/2 → round(2.5) = 2, t = 3 = qmax: inside (half to even). x = 2.51 → 3, t = 4: outside.
        // x = 2.3 lies beyond ub' = 2 yet keeps its gradient: "lb' ≤ x ≤ ub'" would drop it (the half-step difference).
        float[] x = [-1.5f, -1.49f, 2.5f, 2.51f, 2.3f, -0.5f];
        var dx = new float[x.Length];
        FakeQuantKernels.Backward(x, [1f, 1f, 1f, 1f, 1f, -1f], 1f, 1, 3, dx);
        Assert.Equal([0f, 1f, 1f, 0f, 1f, -1f], dx);
    }

    [Fact]
    public void Nan_propagates_and_infinities_saturate()
    {
        var q = QParams.FromRange(-1f, 1f, 4);
        var y = new float[3];
        var dx = new float[3];
        FakeQuantKernels.Forward([float.NaN, float.PositiveInfinity, float.NegativeInfinity], q.Scale, q.ZeroPoint, q.QMax, y);
        FakeQuantKernels.Backward([float.NaN, float.PositiveInfinity, float.NegativeInfinity], [1f, 1f, 1f], q.Scale, q.ZeroPoint, q.QMax, dx);
        Assert.True(float.IsNaN(y[0]));
        Assert.Equal(q.Ub, y[1]);
        Assert.Equal(q.Lb, y[2]);
        Assert.Equal([0f, 0f, 0f], dx);
    }

    [Fact]
    public void Large_tensors_split_over_cores_give_the_same_bits()
    {
        var rng = new Rng(11);
        using var x = rng.Normal(new Shape(3, 100_003));
        using var g = rng.Normal(new Shape(3, 100_003));
        var q = QParams.FromRange(-2f, 3f, 4);
        using var y = FakeQuant.Forward(x, q);
        using var dx = FakeQuant.Backward(x, g, q);
        var y1 = new float[x.Size];
        var dx1 = new float[x.Size];
        FakeQuantKernels.Forward(x.Span, q.Scale, q.ZeroPoint, q.QMax, y1);
        FakeQuantKernels.Backward(x.Span, g.Span, q.Scale, q.ZeroPoint, q.QMax, dx1);
        Assert.True(TestData.SameBits(y1, y.Span));
        Assert.True(TestData.SameBits(dx1, dx.Span));

        var cq = ChannelQParams.FromTensor(x, 4, 0);
        using var yc = FakeQuant.Forward(x, cq);
        for (int c = 0; c < 3; c++)
        {
            var row = new float[100_003];
            FakeQuantKernels.Forward(x.Span.Slice(c * 100_003, 100_003), cq.Scales[c], cq.ZeroPoints[c], 15, row);
            Assert.True(TestData.SameBits(row, yc.Span.Slice(c * 100_003, 100_003)));
        }
    }

    [Fact]
    public void Codes_are_the_integers_behind_the_fake_quantized_values()
    {
        var rng = new Rng(12);
        using var x = rng.Normal(new Shape(500));
        var q = QParams.FromRange(-1.1f, 0.9f, 4);
        var codes = FakeQuant.Codes(x, q);
        using var y = FakeQuant.Forward(x, q);
        for (int i = 0; i < codes.Length; i++)
        {
            Assert.InRange(codes[i], 0, 15);
            Assert.Equal(y.Span[i], (codes[i] - q.ZeroPoint) * q.Scale);
        }
        Assert.Throws<ArgumentException>(() => FakeQuant.Codes(Tensor.FromArray([float.NaN]), q));
    }

    [Fact]
    public void Mismatched_lengths_and_channel_counts_throw()
    {
        Assert.Throws<ArgumentException>(() => FakeQuantKernels.Forward(new float[3], 1f, 0, 15, new float[4]));
        Assert.Throws<ArgumentException>(() => FakeQuantKernels.Backward(new float[3], new float[2], 1f, 0, 15, new float[3]));
        using var x = Tensor.Zeros(2, 3);
        var q = ChannelQParams.FromRanges([-1f, -1f], [1f, 1f], 4, 1);
        Assert.Throws<ArgumentException>(() => FakeQuant.Forward(x, q));   // 2 channels for an axis of 3
        var q3 = ChannelQParams.FromRanges([-1f, -1f], [1f, 1f], 4, 2);
        Assert.Throws<ArgumentException>(() => FakeQuant.Forward(x, q3));  // axis beyond the rank
    }
}
