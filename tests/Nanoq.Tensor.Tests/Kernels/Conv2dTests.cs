using Nanoq.Kernels;

namespace Nanoq.Tests.Kernels;

public class Conv2dTests
{
    // n, cin, h, w, cout, kh, kw, sh, sw, ph, pw, dh, dw, groups
    public static TheoryData<int[]> Geometries => new()
    {
        new[] { 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1 },   // everything 1
        new[] { 2, 3, 7, 6, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1 },   // 3×3 pad 1
        new[] { 1, 4, 9, 11, 6, 3, 2, 2, 1, 1, 0, 1, 2, 2 },  // rectangular kernel, stride and dilation per axis, groups 2
        new[] { 2, 5, 12, 10, 7, 1, 1, 1, 1, 0, 0, 1, 1, 1 }, // pointwise (no im2col)
        new[] { 1, 6, 9, 9, 4, 1, 1, 2, 2, 0, 0, 1, 1, 2 },   // 1×1 stride 2, groups
        new[] { 1, 3, 13, 17, 5, 5, 5, 2, 3, 2, 1, 2, 1, 1 }, // 5×5, stride (2, 3), dilation (2, 1)
        new[] { 0, 3, 5, 5, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1 },   // empty batch
        new[] { 1, 3, 4, 4, 2, 3, 3, 1, 1, 3, 3, 1, 1, 1 },   // padding beyond the kernel (input gradient crops)
        new[] { 3, 4, 6, 6, 9, 3, 3, 1, 1, 1, 2, 3, 3, 1 },   // dilation 3
        new[] { 2, 6, 8, 8, 6, 3, 3, 1, 1, 1, 1, 1, 1, 6 },   // depthwise
        new[] { 1, 8, 10, 9, 8, 3, 3, 2, 2, 1, 1, 1, 1, 8 },  // depthwise stride 2
        new[] { 2, 4, 5, 5, 4, 2, 2, 1, 1, 0, 1, 1, 1, 4 },   // depthwise even kernel
        new[] { 1, 3, 11, 8, 6, 3, 3, 2, 1, 1, 1, 2, 1, 3 },  // depthwise-like groups with multiplier 2
        new[] { 1, 5, 9, 7, 3, 7, 7, 1, 1, 3, 3, 1, 1, 1 },   // 7×7 (stem-like), Cout not a multiple of 8
        new[] { 2, 16, 20, 20, 36, 3, 3, 1, 1, 1, 1, 1, 1, 1 }, // big enough for the parallel paths
        new[] { 3, 12, 15, 15, 20, 3, 3, 2, 2, 1, 1, 1, 1, 1 }, // strided, several tasks
        new[] { 2, 32, 9, 10, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1 },   // 32 channels a group: tap-major weight gradient
        new[] { 1, 64, 7, 6, 6, 3, 2, 2, 1, 1, 0, 1, 2, 2 },    // the same, strided, dilated, 2 groups
        new[] { 1, 36, 40, 38, 24, 3, 3, 2, 2, 1, 1, 1, 1, 1 }, // batch 1, strided: input gradient split by channels
        new[] { 2, 8, 5, 5, 200, 1, 1, 1, 1, 0, 0, 1, 1, 1 },   // more output channels than one GEMM row block
        new[] { 1, 4, 6, 6, 200, 3, 3, 1, 1, 1, 1, 1, 1, 1 },
        new[] { 2, 0, 4, 4, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1 },     // no input channels: y = bias, dw empty
        new[] { 2, 3, 4, 4, 0, 3, 3, 1, 1, 1, 1, 1, 1, 1 },     // no output channels: dx = 0
        // Small maps run as one GEMM over the batch (Conv2dBatchedGemm, output planes of at most 100 pixels); the
        // same features on planes above that take the per-image phase grid.
        new[] { 3, 8, 5, 7, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1 },    // batched: 32-column panels straddle images
        new[] { 2, 6, 9, 8, 10, 3, 3, 2, 1, 1, 1, 1, 1, 1 },    // batched with stride 2 along rows only
        new[] { 1, 512, 5, 5, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1 },  // batched, weights big enough to be packed by all threads
        new[] { 1, 512, 12, 12, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1 }, // the phase grid, the same weights
        new[] { 1, 5, 12, 12, 3, 3, 3, 1, 1, 3, 3, 1, 1, 1 },   // phase grid: padding beyond the kernel, Cout 3
        new[] { 2, 4, 14, 14, 9, 3, 3, 1, 1, 1, 2, 3, 3, 1 },   // phase grid: dilation 3
    };

    private static Conv2dGeometry Make(int[] p) =>
        new(p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11], p[12], p[13]);

    [Theory]
    [MemberData(nameof(Geometries))]
    public void Forward_matches_the_definition(int[] p)
    {
        var g = Make(p);
        var rng = new Random(p.Sum());
        var x = GemmReference.Random(rng, g.InputLength);
        var w = GemmReference.Random(rng, g.WeightLength);
        var b = GemmReference.Random(rng, g.OutChannels);
        var y = GemmReference.Random(rng, g.OutputLength); // garbage: must be overwritten
        Conv2dKernels.Conv2dForward(g, x, w, b, y);
        var (expected, bound) = Conv2dReference.Forward(g, x, w, b);
        GemmReference.AssertClose(expected, bound, y, $"y of {g}");

        Conv2dKernels.Conv2dForward(g, x, w, ReadOnlySpan<float>.Empty, y);
        (expected, bound) = Conv2dReference.Forward(g, x, w, null);
        GemmReference.AssertClose(expected, bound, y, $"y (no bias) of {g}");
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void Input_gradient_matches_the_definition(int[] p)
    {
        var g = Make(p);
        var rng = new Random(p.Sum() + 1);
        var dy = GemmReference.Random(rng, g.OutputLength);
        var w = GemmReference.Random(rng, g.WeightLength);
        var dx = GemmReference.Random(rng, g.InputLength);
        var initial = (float[])dx.Clone();
        Conv2dKernels.Conv2dBackwardInput(g, dy, w, dx, accumulate: true);
        var (expected, bound) = Conv2dReference.BackwardInput(g, dy, w, initial);
        GemmReference.AssertClose(expected, bound, dx, $"dx (accumulated) of {g}");

        Conv2dKernels.Conv2dBackwardInput(g, dy, w, dx);
        (expected, bound) = Conv2dReference.BackwardInput(g, dy, w, null);
        GemmReference.AssertClose(expected, bound, dx, $"dx of {g}");
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void Weight_and_bias_gradients_match_the_definition(int[] p)
    {
        var g = Make(p);
        var rng = new Random(p.Sum() + 2);
        var x = GemmReference.Random(rng, g.InputLength);
        var dy = GemmReference.Random(rng, g.OutputLength);
        var dw = GemmReference.Random(rng, g.WeightLength);
        var db = GemmReference.Random(rng, g.OutChannels);
        var dw0 = (float[])dw.Clone();
        var db0 = (float[])db.Clone();
        Conv2dKernels.Conv2dBackwardWeight(g, x, dy, dw, db, accumulate: true);
        var (expected, bound) = Conv2dReference.BackwardWeight(g, x, dy, dw0);
        GemmReference.AssertClose(expected, bound, dw, $"dw (accumulated) of {g}");
        (expected, bound) = Conv2dReference.BackwardBias(g, dy, db0);
        GemmReference.AssertClose(expected, bound, db, $"db (accumulated) of {g}");

        Conv2dKernels.Conv2dBackwardWeight(g, x, dy, dw, db);
        (expected, bound) = Conv2dReference.BackwardWeight(g, x, dy, null);
        GemmReference.AssertClose(expected, bound, dw, $"dw of {g}");
        (expected, bound) = Conv2dReference.BackwardBias(g, dy, null);
        GemmReference.AssertClose(expected, bound, db, $"db of {g}");

        Conv2dKernels.Conv2dBackwardWeight(g, x, dy, dw, Span<float>.Empty);
        (expected, bound) = Conv2dReference.BackwardWeight(g, x, dy, null);
        GemmReference.AssertClose(expected, bound, dw, $"dw (no bias) of {g}");
    }

    [Fact]
    public void Hand_computed_3x3()
    {
        // x = 1..9 as a 3×3 image, w = all ones 2×2, stride 1, no padding:
        // y = [1+2+4+5, 2+3+5+6; 4+5+7+8, 5+6+8+9] = [12 16; 24 28], plus bias 0.5.
        var g = new Conv2dGeometry(1, 1, 3, 3, 1, 2);
        float[] x = { 1, 2, 3, 4, 5, 6, 7, 8, 9 }, w = { 1, 1, 1, 1 }, y = new float[4];
        Conv2dKernels.Conv2dForward(g, x, w, new[] { 0.5f }, y);
        Assert.Equal(new[] { 12.5f, 16.5f, 24.5f, 28.5f }, y);
        // dx of dy = ones: how many windows cover each pixel = [1 2 1; 2 4 2; 1 2 1].
        var dx = new float[9];
        Conv2dKernels.Conv2dBackwardInput(g, new float[] { 1, 1, 1, 1 }, w, dx);
        Assert.Equal(new float[] { 1, 2, 1, 2, 4, 2, 1, 2, 1 }, dx);
        // dw of dy = ones: the sum of each window's pixels = [12 16; 24 28]; db = 4.
        var dw = new float[4];
        var db = new float[1];
        Conv2dKernels.Conv2dBackwardWeight(g, x, new float[] { 1, 1, 1, 1 }, dw, db);
        Assert.Equal(new float[] { 12, 16, 24, 28 }, dw);
        Assert.Equal(4f, db[0]);
    }

    [Fact]
    public void Results_are_bit_identical_on_one_and_on_all_threads()
    {
        var g = new Conv2dGeometry(4, 16, 14, 14, 24, 3, stride: 1, padding: 1);
        var rng = new Random(5);
        var x = GemmReference.Random(rng, g.InputLength);
        var w = GemmReference.Random(rng, g.WeightLength);
        var dy = GemmReference.Random(rng, g.OutputLength);
        float[][] Run()
        {
            var y = new float[g.OutputLength];
            var dx = new float[g.InputLength];
            var dw = new float[g.WeightLength];
            var db = new float[g.OutChannels];
            Conv2dKernels.Conv2dForward(g, x, w, ReadOnlySpan<float>.Empty, y);
            Conv2dKernels.Conv2dBackwardInput(g, dy, w, dx);
            Conv2dKernels.Conv2dBackwardWeight(g, x, dy, dw, db);
            return [y, dx, dw, db];
        }
        var one = Threads.With(1, Run);
        var three = Threads.With(3, Run);
        for (int i = 0; i < one.Length; i++) Assert.Equal(one[i], three[i]);
    }

    [Fact]
    public void Invalid_geometries_name_the_offending_sizes()
    {
        var e = Assert.Throws<ArgumentException>(() => new Conv2dGeometry(1, 6, 8, 8, 4, 3, groups: 4));
        Assert.Contains("in_channels=6", e.Message);
        Assert.Contains("groups=4", e.Message);
        e = Assert.Throws<ArgumentException>(() => new Conv2dGeometry(1, 3, 4, 4, 8, 5, dilation: 2));
        Assert.Contains("kernel 5x5", e.Message);
        Assert.Contains("input 4x4", e.Message);
        e = Assert.Throws<ArgumentException>(() => new Conv2dGeometry(1, 3, 4, 4, 8, 3, stride: 0));
        Assert.Contains("stride 0x0", e.Message);
        e = Assert.Throws<ArgumentException>(() => new Conv2dGeometry(1, 3, 4, 4, 8, 3, padding: -1));
        Assert.Contains("padding -1x-1", e.Message);
        var g = new Conv2dGeometry(2, 3, 4, 4, 8, 3, padding: 1);
        e = Assert.Throws<ArgumentException>(() => Conv2dKernels.Conv2dForward(g, new float[95], new float[216], default, new float[256]));
        Assert.Contains("input has 95 elements", e.Message);
        Assert.Contains("needs 96", e.Message);
        e = Assert.Throws<ArgumentException>(() => Conv2dKernels.Conv2dForward(g, new float[96], new float[216], new float[7], new float[256]));
        Assert.Contains("bias has 7 elements", e.Message);
    }

    [Fact]
    public void Geometry_computes_output_size_like_pytorch()
    {
        // ⌊(224 + 2·3 − 1·(7 − 1) − 1) / 2⌋ + 1 = 112 (ResNet stem); ⌊(56 + 2 − 2·2 − 1) / 1⌋ + 1 = 54.
        Assert.Equal(112, new Conv2dGeometry(1, 3, 224, 224, 64, 7, stride: 2, padding: 3).OutHeight);
        Assert.Equal(54, new Conv2dGeometry(1, 3, 56, 56, 64, 3, padding: 1, dilation: 2).OutWidth);
        var g = new Conv2dGeometry(8, 64, 56, 56, 64, 3, padding: 1);
        Assert.Equal(2.0 * 8 * 64 * 56 * 56 * 576, g.ForwardFlops);
        Assert.False(g.IsDepthwise);
        Assert.True(new Conv2dGeometry(1, 32, 8, 8, 32, 3, padding: 1, groups: 32).IsDepthwise);
    }
}
