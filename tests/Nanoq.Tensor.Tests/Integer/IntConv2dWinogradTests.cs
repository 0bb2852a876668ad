using Nanoq.Kernels;
using Nanoq.Kernels.Integer;

namespace Nanoq.Tests.Integer;

/// <summary>
/// The integer F(2 × 2, 3 × 3) conv: exact, so its accumulators and codes must equal the scalar reference bit for bit —
/// over odd and even output sizes, paddings 0–2, channel counts off the 4-channel units and blocks, maps smaller than a
/// tile, blocks spanning tile rows and images, batches spanning input chunks, thread counts and channel splits; at the
/// operands' bounds (every V' and U' extreme, S steps summed in 16 bits); and where it must not run.
/// </summary>
[Collection(SimdCollection.Name)]
public class IntConv2dWinogradTests
{
    public static TheoryData<int, int, int, int, int, int> Geometries => new()
    {
        // n, cin, h, w, cout, pad
        { 1, 4, 6, 6, 4, 1 },       // one 3 × 3 grid of tiles
        { 2, 7, 9, 11, 5, 1 },      // odd outputs: the last tile row and column half outside
        { 1, 16, 20, 19, 9, 1 },    // 10 × 10 tiles: segments of 10, blocks across tile rows
        { 3, 24, 21, 19, 20, 1 },   // 3 images, blocks across images
        { 1, 64, 56, 56, 64, 1 },   // the benchmark's layer at batch 1: tile rows of 28 = 16 + 12
        { 2, 9, 8, 8, 6, 0 },       // no padding: 6 × 6 outputs
        { 1, 5, 7, 10, 3, 2 },      // padding 2: 9 × 12 outputs
        { 8, 64, 5, 5, 64, 1 },     // 5 × 5 maps, batch 8: 72 tiles, a block holds 7+ images
        { 4, 3, 3, 3, 2, 0 },       // 1 × 1 outputs: one tile, three of its pixels outside
        { 1, 70, 12, 13, 13, 1 },   // 18 channel units (the last partial), 4 blocks (the last partial)
        { 1, 128, 10, 10, 132, 1 },
        { 1, 128, 24, 24, 72, 1 },  // 3 blocks for 2 or 3 threads: the channel blocks split in 2 (each split transforms the input)
    };

    /// <summary>Lets layers of any size through (<see cref="IntConv2dWinograd.MinInChannels"/> and the AVX2 bounds keep small
    /// ones direct for speed; the codes are the same either way) until disposed.</summary>
    private static Restore AllChannels()
    {
        int saved = IntConv2dWinograd.MinInChannels, saved256 = IntConv2dWinograd.MinInChannels256, side = IntConv2dWinograd.MinOutputSide256;
        IntConv2dWinograd.MinInChannels = IntConv2dWinograd.MinInChannels256 = IntConv2dWinograd.MinOutputSide256 = 1;
        return new Restore(() =>
        {
            IntConv2dWinograd.MinInChannels = saved;
            IntConv2dWinograd.MinInChannels256 = saved256;
            IntConv2dWinograd.MinOutputSide256 = side;
        });
    }

    private sealed class Restore(Action undo) : IDisposable
    {
        public void Dispose() => undo();
    }

    /// <summary>Codes on 4-bit grids with zero points inside the grid (z_w ∈ [1, 14]): every U' then fits s8.</summary>
    private static IntConvData Data(Conv2dGeometry g, ulong seed) => Data(g, new Rng(seed), 4, 4);

    /// <summary>Codes on k-bit grids with weight zero points inside the grid (z_w ∈ [1, 2^k − 2]), as trained grids have.</summary>
    private static IntConvData Data(Conv2dGeometry g, Rng rng, int inputBits, int weightBits)
    {
        var data = IntConvData.Random(rng, g, inputBits, weightBits);
        for (int o = 0; o < g.OutChannels; o++) data.Zw[o] = 1 + rng.NextInt((1 << weightBits) - 2);
        return data;
    }

    /// <summary>At each vector level, the conv takes the Winograd path and gives <paramref name="expected"/>'s accumulators.</summary>
    private static void AssertAccumulatorsAtEveryLevel(Conv2dGeometry g, IntConv2dWeights weights, byte[] x, int zx, int[] bias,
        int[] expected, string what)
    {
        foreach (var level in SimdLevels.VectorLevels)
        {
            var acc = new int[g.OutputLength];
            SimdLevels.With(level, () =>
            {
                Assert.True(IntConv2dWinograd.Suits(g, weights), $"{what}, {level}: not on the Winograd path");
                IntConv2d.ForwardAccumulators(g, x, zx, weights, bias, acc);
            });
            Assert.True(expected.AsSpan().SequenceEqual(acc), $"{what}, {level}: accumulators differ");
        }
    }

    [TheoryRequires(Isa.Avx2)]
    [MemberData(nameof(Geometries))]
    public void Accumulators_and_codes_equal_the_reference(int n, int cin, int h, int w, int cout, int pad)
    {
        var g = new Conv2dGeometry(n, cin, h, w, cout, 3, 1, pad);
        var data = Data(g, (ulong)(n * 1000 + cin * 10 + h + w + cout + pad));
        var weights = data.Pack(IntConvPath.Auto);
        Assert.NotNull(weights.Winograd);
        using var small = AllChannels();
        Assert.True(IntConv2dWinograd.Suits(g, weights));
        var expectedAcc = data.ReferenceAcc();
        var expected = data.ReferenceCodes();
        var single = new Requantization(data.Rq.Multipliers, data.Rq.Shifts, data.Rq.OutputZeroPoint, data.Rq.ClampMin, data.Rq.ClampMax,
            RequantRounding.Single);
        var expectedSingle = new byte[g.OutputLength];
        IntConv2dReference.Forward(g, data.X, data.Zx, data.W, data.Zw, data.Bias, single, expectedSingle);
        foreach (var level in SimdLevels.VectorLevels)
        foreach (int degree in new[] { 1, 2, 3 })
            SimdLevels.With(level, () => Threads.With(degree, () =>
            {
                var acc = new int[g.OutputLength];
                IntConv2d.ForwardAccumulators(g, data.X, data.Zx, weights, data.Bias, acc);
                Assert.True(expectedAcc.AsSpan().SequenceEqual(acc), $"accumulators differ for {g}, {level}, {degree} threads");
                var y = new byte[g.OutputLength];
                IntConv2d.Forward(g, data.X, data.Zx, weights, data.Bias, data.Rq, y);
                Assert.True(expected.AsSpan().SequenceEqual(y), $"codes differ for {g}, {level}, {degree} threads");
                IntConv2d.Forward(g, data.X, data.Zx, weights, data.Bias, single, y);
                Assert.True(expectedSingle.AsSpan().SequenceEqual(y), $"single-rounding codes differ for {g}, {level}, {degree} threads");
                return 0;
            }));
    }

    /// <summary>
    /// Operands at their bounds: weights all 14 above (or below) their zero point make |U'| = 9·14 = 126 at the middle points
    /// (S = ⌊32767 / (2·60·126)⌋ = 2 steps a widen), and inputs of 0s and 15s put V' at 0 and 60 — all 15s make every
    /// V' point 60 or 30 at once. K = 64 channels = 16 steps, so each lane is widened 8 times.
    /// </summary>
    [TheoryRequires(Isa.Avx2)]
    [InlineData(1, 15, false)]
    [InlineData(14, 0, false)]
    [InlineData(1, 15, true)]
    [InlineData(14, 0, true)]
    public void Operands_at_their_bounds_stay_exact(int zw, int code, bool checkerboard)
    {
        var g = new Conv2dGeometry(2, 64, 18, 17, 8, 3, 1, 1);
        var rng = new Rng((ulong)(zw * 100 + code + (checkerboard ? 1 : 0)));
        var x = new byte[g.InputLength];
        for (int i = 0; i < x.Length; i++) x[i] = checkerboard ? (byte)(rng.Bernoulli(0.5) ? 15 : 0) : (byte)15;
        var w = Enumerable.Repeat((byte)code, g.WeightLength).ToArray();
        var weights = IntConv2dWeights.Pack(8, 64, 3, 3, 1, w, [zw], 4, 4);
        Assert.True(IntConv2dWinograd.Suits(g, weights));
        Assert.Equal(126, weights.Winograd!.MaxAbsTransformed);
        Assert.Equal(2, weights.Winograd.PointSteps.ToArray().Min());   // the uniform bound, at the middle points
        var expected = new int[g.OutputLength];
        IntConv2dReference.Accumulators(g, x, 0, w, [zw], [], expected);
        AssertAccumulatorsAtEveryLevel(g, weights, x, 0, [], expected, $"z_w {zw}, codes {code}");
        if (!checkerboard) Assert.Equal((code - zw) * 15 * 576, expected[18 * 17 + 20]); // an interior pixel of image 0's channel 1: the data is at its bound
    }

    /// <summary>Other input widths: V' spans [0, 4·x_max], 12 for 2-bit codes and 252 for 6-bit ones (the widest that stays
    /// a byte; the offset 2·x_max = 126); 7-bit inputs get no transform.</summary>
    [TheoryRequires(Isa.Avx2)]
    [InlineData(2, 4)]
    [InlineData(6, 3)]    // 3-bit weights: |U'| ≤ 9·6 = 54, so a step stays within 2·252·54 < 32767
    [InlineData(5, 3)]
    public void Other_input_widths_equal_the_reference(int inputBits, int weightBits)
    {
        var g = new Conv2dGeometry(2, 64, 17, 18, 12, 3, 1, 1);
        var rng = new Rng((ulong)(inputBits * 10 + weightBits));
        var data = Data(g, rng, inputBits, weightBits);
        var weights = data.Pack(IntConvPath.Auto);
        Assert.NotNull(weights.Winograd);
        Assert.Equal(2 * ((1 << inputBits) - 1), weights.Winograd!.InputOffset);
        AssertAccumulatorsAtEveryLevel(g, weights, data.X, data.Zx, data.Bias, data.ReferenceAcc(), $"{inputBits}-bit inputs");
        Assert.Null(IntConvData.Random(rng, g, 7, 4).Pack(IntConvPath.Auto).Winograd);
        // 6-bit inputs against U' = 126 in both channels of a pair: one step could reach 2·252·126 > 32767, so none.
        var full = Enumerable.Repeat((byte)15, g.WeightLength).ToArray();
        Assert.Null(IntConv2dWeights.Pack(g.OutChannels, g.InChannels, 3, 3, 1, full, [1], 4, 6).Winograd);
        Assert.NotNull(IntConv2dWeights.Pack(g.OutChannels, g.InChannels, 3, 3, 1, full, [1], 4, 4).Winograd);
    }

    /// <summary>
    /// A sweep of 60 random layers — batch 1–3, 1–70 input and 1–20 output channels, maps 1–24 a side, padding 0–2,
    /// 2–6-bit inputs and 2–4-bit weights with zero points inside their grid — at both vector levels: every layer that
    /// gets a transform must give the reference's accumulators (seeded, so a failure names its case).
    /// </summary>
    [FactRequires(Isa.Avx2)]
    public void Random_layers_equal_the_reference()
    {
        using var small = AllChannels();
        var rng = new Rng(2026_12_07);
        int transformed = 0;
        for (int case_ = 0; case_ < 60; case_++)
        {
            int pad = rng.NextInt(3);
            int h = Math.Max(rng.NextInt(1, 25), 3 - 2 * pad), w = Math.Max(rng.NextInt(1, 25), 3 - 2 * pad);
            var g = new Conv2dGeometry(rng.NextInt(1, 4), rng.NextInt(1, 71), h, w, rng.NextInt(1, 21), 3, 1, pad);
            int inputBits = rng.NextInt(2, 7), weightBits = rng.NextInt(2, 5);
            var data = Data(g, rng, inputBits, weightBits);
            var weights = data.Pack(IntConvPath.Auto);
            if (weights.Winograd is null) continue;
            transformed++;
            AssertAccumulatorsAtEveryLevel(g, weights, data.X, data.Zx, data.Bias, data.ReferenceAcc(),
                $"case {case_}: {g}, {inputBits}-bit inputs, {weightBits}-bit weights");
        }
        Assert.True(transformed >= 40, $"only {transformed} of 60 random layers got a transform");
    }

    /// <summary>Channels of one-signed weights at the grid's end (z_w = 0, every code 15): U' = 9·15 = 135 leaves s8, so
    /// the layer keeps the direct path — and its exact result.</summary>
    [FactRequires(Isa.Avx2)]
    public void Weights_whose_transform_leaves_s8_keep_the_direct_path()
    {
        var g = new Conv2dGeometry(1, 8, 9, 9, 4, 3, 1, 1);
        var data = Data(g, 7);
        Array.Fill(data.W, (byte)15);
        data.Zw[2] = 0;
        var weights = data.Pack(IntConvPath.Auto);
        Assert.Null(weights.Winograd);
        Assert.False(IntConv2dWinograd.Suits(g, weights));
        var y = new byte[g.OutputLength];
        IntConv2d.Forward(g, data.X, data.Zx, weights, data.Bias, data.Rq, y);
        Assert.Equal(data.ReferenceCodes(), y);
    }

    /// <summary>Where it does not run: strides, dilation, groups, other kernels, 8-bit inputs (V' would need 10 bits), the
    /// Int16 path, the portable level, and with <see cref="IntConv2dWinograd.Enabled"/> off — which then gives the same codes.</summary>
    [FactRequires(Isa.Avx2)]
    public void Runs_only_where_it_suits_and_the_switch_gives_the_same_codes()
    {
        var g = new Conv2dGeometry(2, 16, 12, 12, 8, 3, 1, 1);
        var data = Data(g, 11);
        var weights = data.Pack(IntConvPath.Auto);
        Assert.False(IntConv2dWinograd.Suits(g, weights));   // 16 input channels: under MinInChannels
        using var small = AllChannels();
        Assert.True(IntConv2dWinograd.Suits(g, weights));
        Assert.False(IntConv2dWinograd.Suits(new Conv2dGeometry(2, 16, 12, 12, 8, 3, 2, 1), weights));
        Assert.False(IntConv2dWinograd.Suits(new Conv2dGeometry(2, 16, 12, 12, 8, 3, 1, 2, 2), weights));
        Assert.Null(IntConv2dWeights.Pack(8, 16, 3, 3, 2, new byte[8 * 8 * 9], [7], 4, 4).Winograd);
        Assert.Null(IntConv2dWeights.Pack(8, 16, 5, 5, 1, new byte[8 * 16 * 25], [7], 4, 4).Winograd);
        Assert.Null(IntConv2dWeights.Pack(8, 16, 3, 3, 1, data.W, data.Zw, 4, 8).Winograd);
        Assert.Null(data.Pack(IntConvPath.Int16).Winograd);
        SimdLevels.With(SimdLevel.Avx2, () => Assert.True(IntConv2dWinograd.Suits(g, weights)));
        SimdLevels.With(SimdLevel.Portable, () => Assert.False(IntConv2dWinograd.Suits(g, weights)));

        var on = new byte[g.OutputLength];
        IntConv2d.Forward(g, data.X, data.Zx, weights, data.Bias, data.Rq, on);
        bool saved = IntConv2dWinograd.Enabled;
        try
        {
            IntConv2dWinograd.Enabled = false;
            Assert.False(IntConv2dWinograd.Suits(g, weights));
            var off = new byte[g.OutputLength];
            IntConv2d.Forward(g, data.X, data.Zx, weights, data.Bias, data.Rq, off);
            Assert.Equal(on, off);
        }
        finally
        {
            IntConv2dWinograd.Enabled = saved;
        }
        Assert.Equal(data.ReferenceCodes(), on);
    }

    /// <summary>Batches whose padded planes exceed one 1 MiB chunk go through a chunk at a time (64 channels of 66 × 66:
    /// 16 planes of 68² units ≈ 74K units an image, 3 images a chunk, 7 images in three chunks).</summary>
    [FactRequires(Isa.Avx2)]
    public void Batches_spanning_several_input_chunks_equal_the_reference()
    {
        var g = new Conv2dGeometry(7, 64, 66, 66, 8, 3, 1, 1);
        var data = Data(g, 21);
        var weights = data.Pack(IntConvPath.Auto);
        Assert.True(IntConv2dWinograd.Suits(g, weights));
        var expected = data.ReferenceCodes();
        foreach (var level in SimdLevels.VectorLevels)
        {
            var y = new byte[g.OutputLength];
            SimdLevels.With(level, () =>
            {
                Assert.True(IntConv2dWinograd.Suits(g, weights));
                IntConv2d.Forward(g, data.X, data.Zx, weights, data.Bias, data.Rq, y);
            });
            Assert.Equal(expected, y);
        }
    }
}
