using Nanoq.Autograd;
using Nanoq.Kernels;
using Nanoq.Quant;

namespace Nanoq.Detection.Tests.RoiPooling;

/// <summary>
/// The fake-quant model's RoIAlign — <c>QFn.FakeQuantize(Fn.RoiAlign(x̂), q_in)</c>, the output rounded onto its input's
/// grid by Nanoq.Quant's own op — is exactly <see cref="RoiAlignOnGrid"/>, the function the integer kernel is tested
/// against: so the integer RoIAlign's agreement rates hold against the fake-quant model itself.
/// </summary>
public class RoiAlignFakeQuantTests
{
    [Theory]
    [InlineData(4, 3)]
    [InlineData(8, 100)]
    public void FakeQuantize_on_the_input_grid_equals_RoundToGrid(int bits, int zeroPoint)
    {
        var rng = new Rng((ulong)bits);
        var q = new QParams(0.0731f, Math.Min(zeroPoint, (1 << bits) - 1), bits);
        int n = 2, c = 3, h = 13, w = 17;
        var codes = new byte[n * c * h * w];
        for (int i = 0; i < codes.Length; i++) codes[i] = (byte)rng.NextInt(1 << bits);
        var rois = new float[5 * 30];
        for (int r = 0; r < 30; r++)
        {
            rois[5 * r] = rng.NextInt(n);
            float x1 = rng.Uniform(-8f, 60f), y1 = rng.Uniform(-8f, 45f);
            rois[5 * r + 1] = x1; rois[5 * r + 2] = y1;
            rois[5 * r + 3] = x1 + rng.Uniform(1f, 40f); rois[5 * r + 4] = y1 + rng.Uniform(1f, 40f);
        }
        var xhat = Tensor.FromArray(codes.Select(v => (v - q.ZeroPoint) * q.Scale).ToArray(), n, c, h, w);
        var fq = QFn.FakeQuantize(Fn.RoiAlign(new Var(xhat), Tensor.FromArray(rois, 30, 5), 7, 7, 0.25f, 2), q).Value.ToArray();
        var grid = new byte[fq.Length];
        RoiAlignOnGrid.Forward(codes, n, c, h, w, q.Scale, q.ZeroPoint, 0, q.QMax, rois, 7, 7, 0.25f, 2, false, grid);
        for (int i = 0; i < fq.Length; i++)
            Assert.Equal(fq[i], (grid[i] - q.ZeroPoint) * q.Scale);
    }
}
