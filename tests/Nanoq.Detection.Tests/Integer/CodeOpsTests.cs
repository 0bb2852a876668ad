using Nanoq.Kernels.Integer;
using Nanoq.Quant.Integer.Program;

namespace Nanoq.Detection.Tests.Integer;

/// <summary>The code-only operations against loops written from their definitions.</summary>
public class CodeOpsTests
{
    [Theory]
    [InlineData(3, 2, 1)]
    [InlineData(3, 2, 0)]
    [InlineData(3, 1, 1)]
    [InlineData(2, 2, 0)]
    [InlineData(2, 2, 1)]
    [InlineData(1, 1, 0)]
    [InlineData(5, 3, 2)]
    public void MaxPoolEqualsTheLoopWithMinusInfinityPadding(int kernel, int stride, int padding)
    {
        var rng = new Rng((ulong)(kernel * 100 + stride * 10 + padding));
        var arena = new CodeArena();
        foreach (int h in new[] { 1, 2, 5, 8, 13, 40, 80, 161 })
            foreach (int w in new[] { 1, 3, 8, 31, 66, 67, 80, 130, 161 })
            {
                if (IntPooling.OutputSize(h, kernel, stride, padding) < 1 || IntPooling.OutputSize(w, kernel, stride, padding) < 1) continue;
                var data = new byte[2 * 3 * h * w];
                for (int i = 0; i < data.Length; i++) data[i] = (byte)rng.NextInt(16);
                var x = new CodeTensor(data, 2, 3, h, w, 5, 4);
                var y = CodeOps.MaxPool(x, kernel, stride, padding, arena);
                int oh = IntPooling.OutputSize(h, kernel, stride, padding), ow = IntPooling.OutputSize(w, kernel, stride, padding);
                Assert.Equal([2, 3, oh, ow], y.Shape);
                for (int p = 0; p < 6; p++)
                    for (int oy = 0; oy < oh; oy++)
                        for (int ox = 0; ox < ow; ox++)
                        {
                            int m = -1;   // −∞ for codes
                            for (int iy = oy * stride - padding; iy < oy * stride - padding + kernel; iy++)
                                for (int ix = ox * stride - padding; ix < ox * stride - padding + kernel; ix++)
                                    if (iy >= 0 && iy < h && ix >= 0 && ix < w) m = Math.Max(m, data[(p * h + iy) * w + ix]);
                            if (y.Data[(p * oh + oy) * ow + ox] != m)
                                Assert.Fail($"{h}x{w}, kernel {kernel}, stride {stride}, padding {padding}: plane {p} ({oy}, {ox}) is {y.Data[(p * oh + oy) * ow + ox]}, want {m}");
                        }
                Assert.Equal(x.ZeroPoint, y.ZeroPoint);
            }
    }

    [Fact]
    public void ReluIsAClampAtTheZeroPoint()
    {
        var x = new CodeTensor([0, 3, 7, 8, 15, 6], 1, 1, 2, 3, 7, 4);
        var relu = new IntClampOp("relu", 0, 1, 7, 15); // ReLU on a grid with z = 7: lo = 7
        var y = relu.Run([x], new IntValue(1, "relu", 7, 4), new CodeArena());
        Assert.Equal([7, 7, 7, 8, 15, 7], y.Data);
    }
}
