using Nanoq.Quant;

namespace Nanoq.Tests;

/// <summary><see cref="ChannelQParams"/>: its validation and its per-channel bounds, by hand.</summary>
public class ChannelQParamsTests
{
    [Fact]
    public void BoundsAreEachChannelsNudgedRange()
    {
        // c0: Δ = 0.5, z = 2 → [−1, 6.5]; c1: Δ = 0.25, z = 15 → [−3.75, 0] (4 bits).
        var q = new ChannelQParams([0.5f, 0.25f], [2, 15], 4, 1);
        Assert.Equal([-1f, -3.75f], q.Lb());
        Assert.Equal([6.5f, 0f], q.Ub());
        Assert.Equal(2, q.Channels);
        Assert.Equal(1, q.Axis);
        Assert.Equal("ChannelQParams(2 channels on axis 1, 4 bits)", q.ToString());
    }

    [Fact]
    public void RejectsInconsistentParameters()
    {
        Assert.Throws<ArgumentException>(() => new ChannelQParams([0.5f, 0.5f], [0], 4, 0));
        Assert.Throws<ArgumentException>(() => new ChannelQParams([], [], 4, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ChannelQParams([0.5f], [0], 4, -1));
        // Each channel is validated as a QParams: the second channel's scale and zero point are bad.
        Assert.Throws<ArgumentOutOfRangeException>(() => new ChannelQParams([0.5f, -1f], [0, 0], 4, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ChannelQParams([0.5f, 0.5f], [0, 16], 4, 0));
        Assert.Throws<ArgumentException>(() => ChannelQParams.FromRanges([-1f, -1f], [1f], 4, 0));
    }
}
