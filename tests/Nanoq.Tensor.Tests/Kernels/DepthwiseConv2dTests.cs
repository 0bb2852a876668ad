using Nanoq.Kernels;

namespace Nanoq.Tests.Kernels;

public class DepthwiseConv2dTests
{
    // n, c, h, w, k, stride, pad, dilation — every case depthwise (groups = Cin = Cout).
    public static TheoryData<int, int, int, int, int, int, int, int> Geometries => new()
    {
        { 1, 2, 1, 1, 1, 1, 0, 1 },
        { 2, 3, 7, 9, 3, 1, 1, 1 },
        { 1, 4, 9, 8, 3, 2, 1, 1 },   // MobileNet stride 2
        { 2, 2, 11, 13, 3, 2, 2, 2 }, // stride 2 with dilation
        { 1, 3, 10, 10, 5, 1, 2, 1 },
        { 1, 2, 15, 14, 7, 3, 3, 1 }, // 49 taps, stride 3
        { 1, 3, 6, 6, 3, 1, 3, 1 },   // padding past the kernel
        { 2, 16, 40, 70, 3, 1, 1, 1 }, // rows longer than 64 (the 4-vector loop), parallel planes
        { 0, 4, 5, 5, 3, 1, 1, 1 },
    };

    private static Conv2dGeometry Make(int n, int c, int h, int w, int k, int s, int p, int d) =>
        new(n, c, h, w, c, k, stride: s, padding: p, dilation: d, groups: c);

    [Theory]
    [MemberData(nameof(Geometries))]
    public void Forward_and_gradients_match_the_definition(int n, int c, int h, int w, int k, int s, int p, int d)
    {
        var g = Make(n, c, h, w, k, s, p, d);
        Assert.True(g.IsDepthwise);
        var rng = new Random(n + 10 * c + 100 * h + 1000 * w + k * s * p * d);
        var x = GemmReference.Random(rng, g.InputLength);
        var wt = GemmReference.Random(rng, g.WeightLength);
        var b = GemmReference.Random(rng, c);
        var dy = GemmReference.Random(rng, g.OutputLength);

        var y = GemmReference.Random(rng, g.OutputLength);
        DepthwiseConv2dKernels.DepthwiseConv2dForward(g, x, wt, b, y);
        var (e, bound) = Conv2dReference.Forward(g, x, wt, b);
        GemmReference.AssertClose(e, bound, y, $"y of {g}");

        var dx = GemmReference.Random(rng, g.InputLength);
        var dx0 = (float[])dx.Clone();
        DepthwiseConv2dKernels.DepthwiseConv2dBackwardInput(g, dy, wt, dx, accumulate: true);
        (e, bound) = Conv2dReference.BackwardInput(g, dy, wt, dx0);
        GemmReference.AssertClose(e, bound, dx, $"dx (accumulated) of {g}");
        DepthwiseConv2dKernels.DepthwiseConv2dBackwardInput(g, dy, wt, dx);
        (e, bound) = Conv2dReference.BackwardInput(g, dy, wt, null);
        GemmReference.AssertClose(e, bound, dx, $"dx of {g}");

        var dw = GemmReference.Random(rng, g.WeightLength);
        var dw0 = (float[])dw.Clone();
        var db = new float[c];
        DepthwiseConv2dKernels.DepthwiseConv2dBackwardWeight(g, x, dy, dw, db, accumulate: true);
        (e, bound) = Conv2dReference.BackwardWeight(g, x, dy, dw0);
        GemmReference.AssertClose(e, bound, dw, $"dw (accumulated) of {g}");
        DepthwiseConv2dKernels.DepthwiseConv2dBackwardWeight(g, x, dy, dw, db);
        (e, bound) = Conv2dReference.BackwardWeight(g, x, dy, null);
        GemmReference.AssertClose(e, bound, dw, $"dw of {g}");
        (e, bound) = Conv2dReference.BackwardBias(g, dy, null);
        GemmReference.AssertClose(e, bound, db, $"db of {g}");
    }

    [Fact]
    public void Hand_computed_stride_2()
    {
        // One 4×4 plane 0..15, 2×2 kernel [1 0; 0 −1], stride 2: y = x[2i, 2j] − x[2i+1, 2j+1] = −5 everywhere.
        var g = new Conv2dGeometry(1, 2, 4, 4, 2, 2, stride: 2, groups: 2);
        var x = new float[32];
        for (int i = 0; i < 32; i++) x[i] = i % 16;
        float[] w = { 1, 0, 0, -1, 1, 0, 0, -1 };
        var y = new float[8];
        DepthwiseConv2dKernels.DepthwiseConv2dForward(g, x, w, default, y);
        Assert.All(y, v => Assert.Equal(-5f, v));
        // dx of dy = ones: +1 on the even-even pixels, −1 on the odd-odd ones, 0 elsewhere.
        var dx = new float[32];
        DepthwiseConv2dKernels.DepthwiseConv2dBackwardInput(g, Enumerable.Repeat(1f, 8).ToArray(), w, dx);
        for (int i = 0; i < 16; i++)
        {
            int r = i / 4, col = i % 4;
            float expected = r % 2 == 0 && col % 2 == 0 ? 1 : r % 2 == 1 && col % 2 == 1 ? -1 : 0;
            Assert.Equal(expected, dx[i]);
        }
    }

    [Fact]
    public void Non_depthwise_geometries_are_rejected()
    {
        var g = new Conv2dGeometry(1, 4, 5, 5, 8, 3, groups: 4);
        var e = Assert.Throws<ArgumentException>(() =>
            DepthwiseConv2dKernels.DepthwiseConv2dForward(g, new float[100], new float[72], default, new float[72]));
        Assert.Contains("groups = in_channels = out_channels", e.Message);
    }
}
