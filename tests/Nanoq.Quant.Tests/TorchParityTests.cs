using Nanoq.Autograd;
using Nanoq.Quant;
using Nanoq.Quant.Observers;

namespace Nanoq.Tests;

/// <summary>
/// Bit-for-bit agreement with PyTorch 1.13 (DESIGN.md §5.3): fake_quantize_per_tensor_affine /
/// fake_quantize_per_channel_affine forward and x-gradient at 2, 4, 8 bits — inputs at rounding ties (j + ½)Δ and one
/// ulp either side, at and half a step beyond the range edges, ±0, far out — and the observers' min/max and qparams.
/// </summary>
public class TorchParityTests
{
    public static TheoryData<int> PerTensorCases() => Indices("fake_quant_per_tensor.json");
    public static TheoryData<int> PerChannelCases() => Indices("fake_quant_per_channel.json");
    public static TheoryData<int> ObserverCases() => Indices("observers.json");

    private static TheoryData<int> Indices(string file)
    {
        var d = new TheoryData<int>();
        for (int i = 0; i < TorchFixture.Cases(file).GetArrayLength(); i++) d.Add(i);
        return d;
    }

    [Theory, MemberData(nameof(PerTensorCases))]
    public void Fake_quantize_per_tensor_forward_and_gradient(int index)
    {
        var c = TorchFixture.Cases("fake_quant_per_tensor.json")[index];
        var q = new QParams(c.Float("scale"), c.Int("zero_point"), c.Int("bits"));
        var xs = c.Floats("x");
        var x = new Var(Tensor.FromArray(xs), requiresGrad: true);
        var y = QFn.FakeQuantize(x, q);
        y.Backward(Tensor.FromArray(c.Floats("g")));
        TorchFixture.AssertBitwise(c.Floats("y"), y.Value.Span, $"{q} forward", xs);
        TorchFixture.AssertBitwise(c.Floats("dx"), x.Grad!.Span, $"{q} gradient", xs);
    }

    [Theory, MemberData(nameof(PerChannelCases))]
    public void Fake_quantize_per_channel_forward_and_gradient(int index)
    {
        var c = TorchFixture.Cases("fake_quant_per_channel.json")[index];
        var q = new ChannelQParams(c.Floats("scales"), c.Ints("zero_points"), c.Int("bits"), c.Int("axis"));
        var xs = c.Floats("x");
        var x = new Var(Tensor.FromArray(xs, c.Ints("shape")), requiresGrad: true);
        var y = QFn.FakeQuantize(x, q);
        y.Backward(Tensor.FromArray(c.Floats("g"), c.Ints("shape")));
        TorchFixture.AssertBitwise(c.Floats("y"), y.Value.Span, $"{q} forward", xs);
        TorchFixture.AssertBitwise(c.Floats("dx"), x.Grad!.Span, $"{q} gradient", xs);
    }

    [Theory, MemberData(nameof(ObserverCases))]
    public void Observer_ranges_and_qparams(int index)
    {
        var c = TorchFixture.Cases("observers.json")[index];
        string kind = c.GetProperty("kind").GetString()!;
        int bits = c.Int("bits");
        var shapes = c.GetProperty("batch_shapes").EnumerateArray().Select(s => s.EnumerateArray().Select(v => v.GetInt32()).ToArray()).ToArray();
        var batches = c.GetProperty("batches").EnumerateArray()
            .Select((b, i) => Tensor.FromArray(b.EnumerateArray().Select(v => TorchFixture.Hex(v.GetString()!)).ToArray(), shapes[i])).ToArray();
        string what = $"{kind} observer on '{c.GetProperty("data").GetString()}' at {bits} bits";
        if (kind == "per_channel")
        {
            var ob = new PerChannelMinMaxObserver(c.Int("axis"));
            foreach (var b in batches) ob.Observe(b);
            var (lo, hi) = ob.Range;
            TorchFixture.AssertBitwise(c.Floats("min_val"), lo, what + " min");
            TorchFixture.AssertBitwise(c.Floats("max_val"), hi, what + " max");
            var q = ob.QParams(bits);
            TorchFixture.AssertBitwise(c.Floats("scales"), q.Scales, what + " scales");
            Assert.Equal(c.Ints("zero_points"), q.ZeroPoints.ToArray());
        }
        else
        {
            RangeObserver ob = kind == "ema" ? new EmaMinMaxObserver(0.01f) : new MinMaxObserver();
            foreach (var b in batches) ob.Observe(b);
            var (lo, hi) = ob.Range;
            TorchFixture.AssertBitwise(c.Floats("min_val"), [lo], what + " min");
            TorchFixture.AssertBitwise(c.Floats("max_val"), [hi], what + " max");
            var q = ob.QParams(bits);
            TorchFixture.AssertBitwise(c.Floats("scales"), [q.Scale], what + " scale");
            Assert.Equal(c.Ints("zero_points")[0], q.ZeroPoint);
        }
    }

    [Fact]
    public void Fixtures_cover_true_ties_at_every_bit_width()
    {
        // The power-of-two scales make x · (1/Δ) exact, so (j + ½)Δ is a real tie that only half-to-even resolves.
        var cases = TorchFixture.Cases("fake_quant_per_tensor.json").EnumerateArray().ToList();
        foreach (int bits in new[] { 2, 4, 8 })
        {
            var c = cases.First(e => e.Int("bits") == bits && e.Float("scale") == 0.125f);
            var xs = c.Floats("x");
            Assert.Contains(xs, v => v == 0.5f * 0.125f);       // j = 0: rounds to 0
            Assert.Contains(xs, v => v == 1.5f * 0.125f);       // j = 1: rounds to 2
        }
    }
}
