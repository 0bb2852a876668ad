using Nanoq.Nn.Taps;
using Nanoq.Quant;
using Nanoq.Quant.Convert;
using Nanoq.Quant.Kernels;

namespace Nanoq.Tests.Convert;

/// <summary>
/// <see cref="ActivationClamp"/>: the integer layer's clamp must equal the fake-quant model's activation followed by
/// its output quantizer, q(act(v)) = clamp(q(v), lo, hi) — checked on random grids against the quantizer itself.
/// </summary>
public class ActivationClampTests
{
    [Fact]
    public void ByHand()
    {
        // Δ = 0.5, z = 3, 4 bits: ReLU lo = 3; ReLU6 3 + round(6/0.5) = 15 = 2^4 − 1.
        var q = new QParams(0.5f, 3, 4);
        Assert.Equal((0, 15), ActivationClamp.For(ActivationKind.None, q));
        Assert.Equal((3, 15), ActivationClamp.For(ActivationKind.Relu, q));
        Assert.Equal((3, 15), ActivationClamp.For(ActivationKind.Relu6, q));
        // Δ = 0.75, z = 2: 6/0.75 = 8 → 10. 8 bits, Δ = 0.1, z = 20: 6/0.1 = 60 (in double from the float 0.1: 59.999999) → 80.
        Assert.Equal((2, 10), ActivationClamp.For(ActivationKind.Relu6, new QParams(0.75f, 2, 4)));
        Assert.Equal((20, 80), ActivationClamp.For(ActivationKind.Relu6, new QParams(0.1f, 20, 8)));
        // A tie: Δ = 12, so 6/Δ = 0.5 exactly → 0 (half to even, as the quantizer rounds q(6) = round(0.5) = 0).
        Assert.Equal((4, 4), ActivationClamp.For(ActivationKind.Relu6, new QParams(12f, 4, 4)));
        Assert.Throws<ArgumentOutOfRangeException>(() => ActivationClamp.For((ActivationKind)99, q));
    }

    [Fact]
    public void ClampEqualsActivationThenQuantizer()
    {
        var rng = new Rng(20);
        int relu6Inside = 0, reluAboveZero = 0, cases = 0;
        while (cases < 400)
        {
            int bits = rng.NextInt(2, 9), qmax = (1 << bits) - 1;
            // Steps from 6/qmax·0.3 to 6·0.8: most grids put 6 inside the range (the clamp's top below 2^k − 1).
            float scale = (float)(6.0 / qmax * Math.Exp(rng.Uniform(Math.Log(0.3), Math.Log(0.8 * qmax))));
            int z = rng.NextInt(0, qmax / 2 + 1);
            var q = new QParams(scale, z, bits);
            // q(6) in the quantizer's float arithmetic vs round(6/Δ) in double: they differ only when 6/Δ is within
            // float rounding of a half (documented in ActivationClamp); such grids are not this test's subject.
            double six = 6.0 / q.Scale;
            if (Math.Abs(six - Math.Floor(six) - 0.5) < 1e-4) continue;
            cases++;
            var (lo, hi) = ActivationClamp.For(ActivationKind.Relu6, q);
            if (hi < qmax) relu6Inside++;
            if (z > 0) reluAboveZero++;
            Assert.Equal((z, qmax), ActivationClamp.For(ActivationKind.Relu, q));
            Assert.Equal((0, qmax), ActivationClamp.For(ActivationKind.None, q));
            // Values across the whole grid and beyond, including 0, 6 and the grid's own points.
            var v = new float[4 * (qmax + 3) + 2];
            for (int i = 0; i < v.Length - 2; i++) v[i] = (float)((i / 4.0 - 1 - z) * q.Scale + rng.Uniform(-0.5, 0.5) * q.Scale);
            v[^2] = 0f;
            v[^1] = 6f;
            var raw = new byte[v.Length];
            FakeQuantKernels.Quantize(v, q.Scale, z, qmax, raw);
            var relu = new byte[v.Length];
            FakeQuantKernels.Quantize(v.Select(x => MathF.Max(x, 0f)).ToArray(), q.Scale, z, qmax, relu);
            var relu6 = new byte[v.Length];
            FakeQuantKernels.Quantize(v.Select(x => MathF.Min(MathF.Max(x, 0f), 6f)).ToArray(), q.Scale, z, qmax, relu6);
            for (int i = 0; i < v.Length; i++)
            {
                Assert.True(Math.Max(raw[i], z) == relu[i], $"{q}: ReLU of {v[i]:G9}: clamp gives {Math.Max(raw[i], z)}, quantizer {relu[i]}");
                Assert.True(Math.Clamp(raw[i], lo, hi) == relu6[i], $"{q}: ReLU6 of {v[i]:G9}: clamp [{lo}, {hi}] gives {Math.Clamp(raw[i], lo, hi)}, quantizer {relu6[i]}");
            }
        }
        // The branches that can go wrong ran in most cases: the ReLU6 top inside the grid, a ReLU bottom above code 0.
        Assert.True(relu6Inside >= cases / 2, $"ReLU6's top was inside the grid in {relu6Inside} of {cases} cases");
        Assert.True(reluAboveZero >= cases / 2, $"z_y > 0 in {reluAboveZero} of {cases} cases");
    }
}
