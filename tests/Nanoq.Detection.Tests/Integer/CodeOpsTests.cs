using Nanoq.Kernels.Integer;
using Nanoq.Quant.Integer.Program;

namespace Nanoq.Detection.Tests.Integer;

/// <summary>The code-only operations against the integer kernels' scalar references.</summary>
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
    public void MaxPoolEqualsTheKernelsReference(int kernel, int stride, int padding)
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
                var want = new byte[y.Length];
                IntPooling.MaxPool2d(2, 3, h, w, kernel, kernel, stride, stride, padding, padding, data, want);
                Assert.True(want.AsSpan().SequenceEqual(y.Data), $"{h}x{w}, kernel {kernel}, stride {stride}, padding {padding}");
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
