using Nanoq.Quant;

namespace Nanoq.Tests;

/// <summary>Eq. 4 and the zero-point alignment (DESIGN.md §5.1–2), with the hand arithmetic in comments.</summary>
public class QParamsTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(9)]
    [InlineData(16)]
    [InlineData(-4)]
    public void Bit_widths_outside_2_to_8_are_rejected(int bits)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => QParams.FromRange(-1f, 1f, bits));
        Assert.Contains("2..8", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new QParams(0.1f, 0, bits));
        Assert.Throws<ArgumentOutOfRangeException>(() => ChannelQParams.FromRanges([-1f], [1f], bits, 0));
    }

    [Fact]
    public void Range_minus1_to_2_at_2_bits()
    {
        // Δ = (2 − (−1)) / 3 = 1; z = round(1 / 1) = 1; lb' = −1, ub' = (3 − 1)·1 = 2.
        var q = QParams.FromRange(-1f, 2f, 2);
        Assert.Equal(1f, q.Scale);
        Assert.Equal(1, q.ZeroPoint);
        Assert.Equal(-1f, q.Lb);
        Assert.Equal(2f, q.Ub);
    }

    [Fact]
    public void A_positive_range_is_widened_to_contain_zero()
    {
        // [0.5, 2] → [0, 2]: Δ = 2/15, z = 0, lb' = 0.
        var q = QParams.FromRange(0.5f, 2f, 4);
        Assert.Equal(2f / 15f, q.Scale);
        Assert.Equal(0, q.ZeroPoint);
        Assert.Equal(0f, q.Lb);
    }

    [Fact]
    public void A_negative_range_puts_zero_at_the_top_code()
    {
        // [−3, −1] → [−3, 0]: Δ = 3/15 = 0.2f, z = round(3 / 0.2f) = 15 = qmax, ub' = 0.
        var q = QParams.FromRange(-3f, -1f, 4);
        Assert.Equal(3f / 15f, q.Scale);
        Assert.Equal(15, q.ZeroPoint);
        Assert.Equal(0f, q.Ub);
        Assert.Equal(-15f * (3f / 15f), q.Lb);
    }

    [Theory]
    [InlineData(-2.5f, 0.5f, 2)]   // Δ = 1, −lb/Δ = 2.5 → 2 (even)
    [InlineData(-1.5f, 1.5f, 2)]   // Δ = 1, 1.5 → 2
    [InlineData(-0.5f, 2.5f, 0)]   // Δ = 1, 0.5 → 0
    public void The_zero_point_rounds_half_to_even(float lb, float ub, int z) =>
        Assert.Equal(z, QParams.FromRange(lb, ub, 2).ZeroPoint);

    [Fact]
    public void Degenerate_ranges_get_the_float32_epsilon_scale()
    {
        // All zeros: Δ = max(0/15, ε) = ε = 2⁻²³; z = 0. So the minimum width is (2^k − 1)·ε around 0.
        var q = QParams.FromRange(0f, 0f, 4);
        Assert.Equal(MathF.Pow(2, -23), q.Scale);
        Assert.Equal(QParams.MinScale, q.Scale);
        Assert.Equal(0, q.ZeroPoint);
        // Narrower than (2^k − 1)·ε: the same floor.
        var tiny = QParams.FromRange(-1e-9f, 1e-9f, 8);
        Assert.Equal(QParams.MinScale, tiny.Scale);
        Assert.Equal(0, tiny.ZeroPoint); // round(1e−9 / 1.19e−7) = round(0.0084) = 0
        // A constant positive tensor is not degenerate once widened to contain 0: [0, 0.3].
        Assert.Equal(0.3f / 15f, QParams.FromRange(0.3f, 0.3f, 4).Scale);
    }

    [Fact]
    public void Invalid_ranges_and_parameters_throw()
    {
        Assert.Throws<ArgumentException>(() => QParams.FromRange(float.NaN, 1f, 4));
        Assert.Throws<ArgumentException>(() => QParams.FromRange(float.PositiveInfinity, float.NegativeInfinity, 4));
        Assert.Throws<ArgumentException>(() => QParams.FromRange(2f, 1f, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => new QParams(0f, 0, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => new QParams(0.1f, 16, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => new QParams(0.1f, -1, 4));
    }

    [Fact]
    public void The_nudged_range_is_exactly_what_codes_0_and_qmax_dequantize_to()
    {
        var q = QParams.FromRange(-0.37f, 1.91f, 4);
        using var x = Tensor.FromArray([-100f, 100f]);
        using var y = FakeQuant.Forward(x, q);
        Assert.Equal(q.Lb, y.Span[0]);
        Assert.Equal(q.Ub, y.Span[1]);
    }

    [Fact]
    public void Per_channel_parameters_follow_each_channels_min_max()
    {
        // Rows: [−1, 2] → Δ = 1, z = 1 (2 bits); [0.5, 3] → [0, 3], Δ = 1, z = 0; all zeros → ε, z = 0.
        using var w = Tensor.FromArray([-1f, 0f, 2f, 0.5f, 1f, 3f, 0f, 0f, 0f], 3, 3);
        var q = ChannelQParams.FromTensor(w, 2, axis: 0);
        Assert.Equal([1f, 1f, QParams.MinScale], q.Scales.ToArray());
        Assert.Equal([1, 0, 0], q.ZeroPoints.ToArray());
        Assert.Equal(q[0], QParams.FromRange(-1f, 2f, 2));
        // Along the last axis: columns [−1, 0.5, 0], [0, 1, 0], [2, 3, 0].
        var qc = ChannelQParams.FromTensor(w, 2, axis: 1);
        Assert.Equal(1, qc.Axis);
        Assert.Equal(QParams.FromRange(-1f, 0.5f, 2), qc[0]);
        Assert.Equal(QParams.FromRange(0f, 3f, 2), qc[2]);
    }

    [Fact]
    public void QParams_from_a_tensor_is_from_its_min_and_max()
    {
        using var x = Tensor.FromArray([0.25f, -0.75f, 1.5f, 0f]);
        Assert.Equal(QParams.FromRange(-0.75f, 1.5f, 3), QParams.FromTensor(x, 3));
        using var nan = Tensor.FromArray([0f, float.NaN]);
        Assert.Throws<ArgumentException>(() => QParams.FromTensor(nan, 4));
    }
    [Fact]
    public void A_floor_at_either_end_of_the_range_changes_nothing()
    {
        // The floor must lie strictly inside (lb, ub). At ub = 2 a raised range would be [2 − 0, 2] = [0, 2] after
        // widening to 0, not the plain [−1, 2]; at lb = −1 it would be the plain range anyway. Both return the plain grid.
        Assert.Equal(QParams.FromRange(-1f, 2f, 4), QParams.FromRangeAboveFloor(-1f, 2f, 2f, 4));
        Assert.Equal(QParams.FromRange(-1f, 2f, 4), QParams.FromRangeAboveFloor(-1f, 2f, -1f, 4));
        Assert.Equal(QParams.FromRange(-1f, 2f, 4), QParams.FromRangeAboveFloor(-1f, 2f, float.NaN, 4));
    }
}
