using Nanoq.Quant.Kernels;

namespace Nanoq.Tests.Kernels;

/// <summary>
/// The kernels' edges that the mutation run (tools/README.md) found unchecked: the loops stay inside their spans, and
/// every length / channel-count mismatch is an <see cref="ArgumentException"/> before any element is touched.
/// </summary>
public class FakeQuantKernelGuardTests
{
    [Fact]
    public void LoopsWriteNothingPastTheirSpan()
    {
        // Each length exercises the 512-bit body, the 256-bit step and the scalar tail; the output is a slice of a
        // larger buffer whose next element is a sentinel, so a loop running one element too far is seen.
        foreach (int n in new[] { 1, 7, 8, 15, 16, 17, 25, 33 })
        {
            var x = Enumerable.Range(0, n).Select(i => 0.3f * i - 2f).ToArray();
            var buffer = new float[n + 1];
            buffer[n] = 12345f;
            FakeQuantKernels.Forward(x, 0.25f, 8, 15, buffer.AsSpan(0, n));
            Assert.Equal(12345f, buffer[n]);
            var g = Enumerable.Repeat(1f, n + 1).ToArray(); // dy one longer than x: the tail must not read it either
            Array.Fill(buffer, 0f);
            buffer[n] = 12345f;
            FakeQuantKernels.Backward(x, g.AsSpan(0, n), 0.25f, 8, 15, buffer.AsSpan(0, n));
            Assert.Equal(12345f, buffer[n]);
            // Δ = 0.25, z = 8: the code round(4x) + 8 stays on [0, 15] for x ≥ −2 (all of them) and 4x < 7.5.
            for (int i = 0; i < n; i++) Assert.Equal(x[i] < 1.875f ? 1f : 0f, buffer[i]);
        }
    }

    [Fact]
    public void QuantizeRejectsBadArguments()
    {
        Assert.Throws<ArgumentException>(() => FakeQuantKernels.Quantize([1f, 2f], 0.5f, 0, 15, new byte[1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => FakeQuantKernels.Quantize([1f], 0.5f, 0, 511, new byte[1]));
        var ex = Assert.Throws<ArgumentException>(() => FakeQuantKernels.Quantize([1f, float.NaN], 0.5f, 0, 15, new byte[2]));
        Assert.Contains("element 1 is NaN", ex.Message);
    }

    [Fact]
    public void PerChannelRejectsMismatchedViewsAndParameters()
    {
        var x = new float[12];
        float[] s3 = [1f, 1f, 1f];
        int[] z3 = [0, 0, 0];
        // [2, 3, 2] is 12 elements; y of 11, a view of 13, 2 scales, 2 zero points: each alone must throw.
        Assert.Throws<ArgumentException>(() => FakeQuantKernels.ForwardPerChannel(x, 2, 3, 2, s3, z3, 15, new float[11]));
        Assert.Throws<ArgumentException>(() => FakeQuantKernels.ForwardPerChannel(x, 2, 3, 3, s3, z3, 15, new float[12]));
        Assert.Throws<ArgumentException>(() => FakeQuantKernels.ForwardPerChannel(x, 2, 3, 2, [1f, 1f], z3, 15, new float[12]));
        Assert.Throws<ArgumentException>(() => FakeQuantKernels.ForwardPerChannel(x, 2, 3, 2, s3, [0, 0], 15, new float[12]));
        Assert.Throws<ArgumentException>(() => FakeQuantKernels.BackwardPerChannel(x, x, 2, 3, 2, s3, z3, 15, new float[11]));
        Assert.Throws<ArgumentException>(() => FakeQuantKernels.BackwardPerChannel(x, new float[11], 2, 3, 2, s3, z3, 15, new float[12]));
        Assert.Throws<ArgumentException>(() => FakeQuantKernels.BackwardPerChannel(x, x, 2, 3, 2, s3, [0, 0], 15, new float[12]));
        Assert.Throws<ArgumentException>(() => FakeQuantKernels.Forward(x, 1f, 0, 15, new float[11]));
        Assert.Throws<ArgumentException>(() => FakeQuantKernels.Backward(x, new float[11], 1f, 0, 15, new float[12]));
    }
}
