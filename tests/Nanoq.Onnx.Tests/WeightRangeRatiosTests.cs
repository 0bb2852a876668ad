namespace Nanoq.Onnx.Tests;

public class WeightRangeRatiosTests
{
    [Fact]
    public void Ratios_in_db_by_hand()
    {
        // 3 channels of 2 weights. Ranges contain 0: ch0 [-1, 1] → 2; ch1 [0, 0.2] → 0.2; ch2 [-0.02, 0] → 0.02.
        // Layer (per-tensor) range [-1, 1] → 2. dB: 20·log10(2/2) = 0, 20·log10(2/0.2) = 20, 20·log10(2/0.02) = 40.
        // Spread: 20·log10(2 / 0.02) = 40.
        float[] w = [-1f, 1f, 0.1f, 0.2f, -0.02f, -0.01f];
        var r = WeightRangeRatios.ForWeights("l", w, 3);
        Assert.Equal(0, r.ChannelDb[0], 9);
        Assert.Equal(20, r.ChannelDb[1], 5);
        Assert.Equal(40, r.ChannelDb[2], 5);
        Assert.Equal(40, r.SpreadDb, 5);
    }

    [Fact]
    public void Channel_scale_folds_batch_norm_and_zero_channels_are_infinite()
    {
        // ch0 [0.5, 1] × 2 → range [0, 2] = 2; ch1 [-1, 0.5] × 1 → [-1, 0.5] = 1.5; ch2 zeros → +∞.
        // Layer range [-1, 2] = 3: 20·log10(3/2) = 3.522, 20·log10(3/1.5) = 6.021; spread 20·log10(2/1.5) = 2.499.
        float[] w = [0.5f, 1f, -1f, 0.5f, 0f, 0f];
        var r = WeightRangeRatios.ForWeights("l", w, 3, [2f, 1f, 5f]);
        Assert.Equal(3.5218, r.ChannelDb[0], 3);
        Assert.Equal(6.0206, r.ChannelDb[1], 3);
        Assert.True(double.IsPositiveInfinity(r.ChannelDb[2]));
        Assert.Equal(2.4988, r.SpreadDb, 3);
    }

    [Fact]
    public void Histogram_bins_by_hand()
    {
        // bins of 5 dB: [0, 5) ← 0, 4.9; [5, 10) ← 5; [10, 15) ← 14; ∞ left out.
        var h = WeightRangeRatios.Histogram([0, 4.9, 5, 14, double.PositiveInfinity], 5);
        Assert.Equal([(0.0, 5.0, 2), (5.0, 10.0, 1), (10.0, 15.0, 1)], h);
    }

    [Fact]
    public void Percentile_interpolates()
    {
        Assert.Equal(2.5, WeightRangeRatios.Percentile([4, 1, 3, 2, double.PositiveInfinity], 50));
        Assert.Equal(1, WeightRangeRatios.Percentile([4, 1, 3, 2], 0));
        Assert.Equal(4, WeightRangeRatios.Percentile([4, 1, 3, 2], 100));
    }
}

public class WeightRangeRatiosAgreeWithQuantTests
{
    [Fact]
    public void Folded_weights_agree_with_the_quantized_layers_fold()
    {
        // nanoq inspect's histogram reads FoldedConv.Folded (eq. 13–14); the library folds BN itself. Same numbers.
        var net = OnnxImporter.Import(EveryOpTests.Build());
        var mine = WeightRangeRatios.Compute(net);
        Quant.Taps.ModelQuantizer.Install(net, Quant.QuantRecipe.Fqn(4));
        var layers = net.NamedTaps().Select(t => t.Tap).OfType<Nn.Taps.ConvUnit>().ToList();
        Assert.Equal(mine.Count, layers.Count);
        for (int i = 0; i < layers.Count; i++)
        {
            var (w, b) = Quant.Taps.FoldedConv.Folded(layers[i]);
            b.Dispose();
            var theirs = WeightRangeRatios.ForWeights(mine[i].Name, w.Span, w.Shape[0]);
            Assert.Equal(theirs.SpreadDb, mine[i].SpreadDb, 3);
            for (int c = 0; c < theirs.ChannelDb.Length; c++) Assert.Equal(theirs.ChannelDb[c], mine[i].ChannelDb[c], 3);
        }
    }
}
