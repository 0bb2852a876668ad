using Nanoq.Testing;
using Xunit.Abstractions;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Nanoq.Autograd;
using Nanoq.Quant;

namespace Nanoq.Tests;

/// <summary>
/// Properties of affine fake quantization over generated ranges, bit widths and data (DESIGN.md §9): idempotence,
/// zero exactly representable, codes on the grid, error at most Δ/2 inside the range, the STE mask, per-channel =
/// per-tensor slice by slice.
/// </summary>
public class FakeQuantPropertyTests(ITestOutputHelper output)
{
    private readonly ITestOutputHelper _out = output;

    /// <summary>(lb, ub, bits, seed): ranges anywhere from degenerate to wide, on either side of 0 or across it.</summary>
    private static Arbitrary<(float Lb, float Ub, int Bits, ulong Seed)> Cases =>
        (from bits in Gen.Choose(2, 8)
         from a in Gen.Choose(-4000, 4000)
         from w in Gen.Elements(0, 1, 7, 100, 1000, 5000)
         from scaleExp in Gen.Choose(-6, 2)
         from seed in Gen.Choose(0, int.MaxValue)
         let s = MathF.Pow(10, scaleExp) / 1000f
         select (a * s, (a + w) * s, bits, (ulong)seed)).ToArbitrary();

    /// <summary>Data spread over the nudged range and a few steps beyond, with some exact ties and zeros.</summary>
    private static Tensor Data(QParams q, ulong seed, int n = 257)
    {
        var rng = new Rng(seed);
        var t = Tensor.Empty(n);
        var s = t.Span;
        for (int i = 0; i < n; i++)
            s[i] = (i % 5) switch
            {
                0 => (rng.NextInt(-q.ZeroPoint - 2, q.QMax - q.ZeroPoint + 2) + 0.5f) * q.Scale,
                1 => 0f,
                _ => rng.Uniform(q.Lb - 3 * q.Scale, q.Ub + 3 * q.Scale),
            };
        return t;
    }

    [Property(MaxTest = 200)]
    public Property Fake_quantization_is_idempotent() => Prop.ForAll(Cases, c =>
    {
        var q = QParams.FromRange(c.Lb, c.Ub, c.Bits);
        using var x = Data(q, c.Seed);
        using var y = FakeQuant.Forward(x, q);
        using var yy = FakeQuant.Forward(y, q);
        return TestData.SameBits(y.Span, yy.Span);
    });

    [Property(MaxTest = 200)]
    public Property Zero_is_exactly_representable_for_any_range() => Prop.ForAll(Cases, c =>
    {
        var q = QParams.FromRange(c.Lb, c.Ub, c.Bits);
        using var x = Tensor.FromArray([0f, -0f]);
        using var y = FakeQuant.Forward(x, q);
        return TestData.Bits(y.Span[0]) == 0u && TestData.Bits(y.Span[1]) == 0u // +0 both: zero padding stays exact
               && q.Lb <= 0f && q.Ub >= 0f;
    });

    [Property(MaxTest = 200)]
    public Property Every_output_lies_on_the_grid() => Prop.ForAll(Cases, c =>
    {
        var q = QParams.FromRange(c.Lb, c.Ub, c.Bits);
        using var x = Data(q, c.Seed);
        using var y = FakeQuant.Forward(x, q);
        foreach (float v in y.Span)
        {
            long code = q.ZeroPoint + (long)Math.Round((double)v / q.Scale);
            if (code < 0 || code > q.QMax) return false;
            if (TestData.Bits((float)(code - q.ZeroPoint) * q.Scale) != TestData.Bits(v)) return false;
        }
        return true;
    });

    [Property(MaxTest = 200)]
    public Property Error_is_at_most_half_a_step_inside_the_nudged_range() => Prop.ForAll(Cases, c =>
    {
        var q = QParams.FromRange(c.Lb, c.Ub, c.Bits);
        using var x = Data(q, c.Seed);
        using var y = FakeQuant.Forward(x, q);
        for (int i = 0; i < x.Size; i++)
        {
            float v = x.Span[i];
            if (v < q.Lb || v > q.Ub) continue;
            // Δ/2, plus the float rounding of x·(1/Δ) and of (q − z)Δ: a few ulps of the larger of |x| and Δ.
            double slack = 4 * Math.Max(MathF.BitIncrement(MathF.Abs(v)) - MathF.Abs(v), MathF.BitIncrement(q.Scale) - q.Scale) * Math.Max(1, q.QMax / 8);
            if (Math.Abs((double)y.Span[i] - v) > q.Scale / 2.0 + slack) return false;
        }
        return true;
    });

    [Property(MaxTest = 200)]
    public Property The_STE_passes_the_gradient_in_range_and_zero_outside() => Prop.ForAll(Cases, c =>
    {
        var q = QParams.FromRange(c.Lb, c.Ub, c.Bits);
        var x = new Var(Data(q, c.Seed), requiresGrad: true);
        var g = new Rng(c.Seed + 1).Normal(x.Shape);
        QFn.FakeQuantize(x, q).Backward(g);
        // Inside [lb' − Δ/2, ub' + Δ/2] (away from its ends by a rounding margin) the gradient is g; beyond it, ±0;
        // within the margin either — the tie rule decides (see FakeQuantKernels).
        double margin = q.Scale * 1e-3 + 1e-6 * Math.Max(Math.Abs(q.Lb), Math.Abs(q.Ub));
        double lo = q.Lb - q.Scale / 2.0, hi = q.Ub + q.Scale / 2.0;
        for (int i = 0; i < g.Size; i++)
        {
            double v = x.Value.Span[i];
            float d = x.Grad!.Span[i], gi = g.Span[i];
            bool passes = TestData.Bits(d) == TestData.Bits(gi), blocked = d == 0f;
            if (!passes && !blocked) return false;
            if (v > lo + margin && v < hi - margin && !passes) return false;
            if ((v < lo - margin || v > hi + margin) && !blocked) return false;
        }
        return true;
    });

    [Property(MaxTest = 100)]
    public Property Per_channel_equals_per_tensor_slice_by_slice() =>
        Prop.ForAll(Gen.Choose(1, 4).SelectMany(r => Gen.Choose(1, 6).ArrayOf(r)).ToArbitrary(), Gen.Choose(2, 8).ToArbitrary(),
                    Gen.Choose(0, int.MaxValue).ToArbitrary(), (dims, bits, seed) =>
        {
            var rng = new Rng((ulong)seed);
            int axis = rng.NextInt(dims.Length);
            using var xt = rng.Normal(new Shape(dims), 0.3f, 2f);
            var q = ChannelQParams.FromTensor(xt, bits, axis);
            var x = new Var(xt, requiresGrad: true);
            var g = rng.Normal(new Shape(dims));
            QFn.FakeQuantize(x, q).Backward(g);
            using var y = FakeQuant.Forward(xt, q);
            int outer = xt.Shape.SizeOf(0, axis), inner = xt.Shape.SizeOf(axis + 1, dims.Length), ch = dims[axis];
            for (int c = 0; c < ch; c++)
            {
                // Gather channel c, quantize it per tensor with its own parameters, compare.
                var idx = new List<int>();
                for (int o = 0; o < outer; o++) for (int i = 0; i < inner; i++) idx.Add((o * ch + c) * inner + i);
                using var slice = Tensor.FromArray(idx.Select(k => xt.Span[k]).ToArray(), idx.Count);
                using var gs = Tensor.FromArray(idx.Select(k => g.Span[k]).ToArray(), idx.Count);
                using var ys = FakeQuant.Forward(slice, q[c]);
                using var ds = FakeQuant.Backward(slice, gs, q[c]);
                if (!TestData.SameBits(ys.Span, idx.Select(k => y.Span[k]).ToArray())) return false;
                if (!TestData.SameBits(ds.Span, idx.Select(k => x.Grad!.Span[k]).ToArray())) return false;
                if (q[c] != QParams.FromRange(slice.ToArray().Min(), slice.ToArray().Max(), bits)) return false;
            }
            return true;
        });

    /// <summary>
    /// (lb, ub, floor, bits) for the floor property: ranges straddling 0 (lb &lt; 0 &lt; ub, as class logits do) from
    /// widths of 1e−4 to 800, wide enough that Δ stays above its ε minimum, the floor strictly inside at 2%..98% of the width — so the floor moves the grid in most
    /// cases (the general <see cref="Cases"/> mostly do not: a third of them have lb ≥ 0 or a degenerate width, where
    /// a floor changes nothing).
    /// </summary>
    private static Arbitrary<(float Lb, float Ub, float Floor, int Bits)> FloorCases =>
        (from bits in Gen.Choose(2, 8)
         from a in Gen.Choose(50, 4000)
         from b in Gen.Choose(50, 4000)
         from t in Gen.Choose(20, 980)
         from scaleExp in Gen.Choose(-4, 1)
         let s = MathF.Pow(10, scaleExp) / 1000f
         let lb = -a * s
         let ub = b * s
         select (lb, ub, lb + (ub - lb) * (t / 1000f), bits)).ToArbitrary();

    /// <summary>
    /// A consumer floor (a detector's score threshold as a logit) inside the range: the lowest code dequantizes to at or
    /// below it — the values the grid clamps, which the consumer discards, stay discarded (a value just below the floor
    /// may still round up past it, as on any grid) — while the step is at most
    /// 2^k/(2^k − 1) times the step of [floor, ub] alone, never wider than the unfloored grid's.
    /// The non-trivial branch (the floor changed the grid) must run in at least half the cases.
    /// </summary>
    [Fact]
    public void A_floored_range_keeps_its_lowest_code_at_or_below_the_floor()
    {
        int cases = 0, floored = 0;
        PropertyRun.Check(Prop.ForAll(FloorCases, c =>
        {
            cases++;
            Assert.True(c.Lb < c.Floor && c.Floor < c.Ub, "the generator keeps the floor inside the range");
            var q = QParams.FromRangeAboveFloor(c.Lb, c.Ub, c.Floor, c.Bits);
            var plain = QParams.FromRange(c.Lb, c.Ub, c.Bits);
            if (q == plain) return true; // the floor lies within a step of lb: nothing to raise (counted as trivial)
            floored++;
            using var x = Tensor.FromArray([q.Lb - 3 * q.Scale, q.Lb]); // a clamped value; the lowest code
            using var y = FakeQuant.Forward(x, q);
            float fullStep = (MathF.Max(c.Ub, 0f) - MathF.Min(c.Floor, 0f)) / ((1 << c.Bits) - 1);
            return y.Span[0] <= c.Floor && y.Span[1] <= c.Floor && q.Scale <= plain.Scale * (1 + 1e-6f)
                   && q.Scale <= fullStep * (1 << c.Bits) / ((1 << c.Bits) - 1) * (1 + 1e-5f) + QParams.MinScale;
        }), maxTest: 300);
        _out.WriteLine($"the floor moved the grid in {floored} of {cases} cases");
        Assert.True(floored * 2 >= cases, $"the floor moved the grid in only {floored} of {cases} cases");
    }
    /// <summary>
    /// The one failure seen while writing this property (seed "629937762988705582,7247745627439591695", a first version of
    /// <see cref="FloorCases"/> that drew widths down to 1e−9): a range 2.8e−6 wide on 8 bits, where Δ = 2.8e−6/255 is
    /// below ε = 2^−23 and both grids sit at the ε minimum. The floor then changes nothing — not a bug, a generator
    /// that left the property's domain; kept as a fixed case of the ε corner.
    /// </summary>
    [Fact]
    public void A_floor_inside_a_range_narrower_than_epsilon_steps_leaves_the_grid()
    {
        const float lb = -1.408999992e-06f, ub = 1.409999982e-06f, floor = -1.630020279e-07f;
        var q = QParams.FromRangeAboveFloor(lb, ub, floor, 8);
        Assert.Equal(QParams.FromRange(lb, ub, 8), q);
        Assert.Equal(QParams.MinScale, q.Scale);
        Assert.True(q.Lb <= floor);
    }
}
