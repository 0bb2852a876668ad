using Nanoq.Autograd;

namespace Nanoq.Quant;

public static partial class QFn
{
    /// <summary>
    /// LSQ, learned step size quantization (Esser et al., ICLR 2020), on Nanoq's asymmetric grid: Δ is a parameter
    /// ([C] along axis 0 for per-channel weights, [1] otherwise), z a constant of the grid (set when the quantizer is
    /// initialized, so real 0 stays exact), Q = 2^k − 1:
    /// <code>
    ///     t = round(x · (1/Δ)) + z,   q = clamp(t, 0, Q),   x̂ = (q − z) · Δ            the same arithmetic as FakeQuantize
    ///     ∂L/∂x = ∂L/∂x̂ · [0 ≤ t ≤ Q]                                                  the STE mask (eq. 8)
    ///     ∂L/∂Δ = g · Σ ∂L/∂x̂ · { round(x/Δ) − x/Δ   if 0 ≤ t ≤ Q                       LSQ's eq. 3 on this grid
    ///                           { q − z              otherwise (−z below, Q − z above)
    ///     g = 1 / √(N · Q)                                                             LSQ's gradient scale
    /// </code>
    /// N is the number of elements that share one Δ in one sample: a channel's weights, or an activation's elements per
    /// image (x.Size / x.Shape[0]); LSQ's Q_P, the number of steps above the lowest code, is Q on an unsigned grid.
    /// The Δ gradient is the exact derivative of LSQ's straight-through surrogate x + Δ·sg(round(x/Δ) − x/Δ) inside the
    /// range (tests check it against central differences of that surrogate, and a hand computation). Δ is used as
    /// max(Δ, <see cref="QParams.MinScale"/>), so a step pushed to 0 or below by an update still quantizes.
    /// </summary>
    public static Var LsqFakeQuantize(Var x, Var scale, int[] zeroPoints, int bits, bool perChannel)
    {
        int channels = scale.Value.Size;
        if (zeroPoints.Length != channels) throw new ArgumentException($"LsqFakeQuantize: {channels} steps but {zeroPoints.Length} zero points.");
        if (perChannel && x.Shape[0] != channels) throw new ArgumentException($"LsqFakeQuantize: {channels} steps for {x.Shape[0]} channels on axis 0.");
        if (!perChannel && channels != 1) throw new ArgumentException($"LsqFakeQuantize: per tensor takes one step, got {channels}.");
        var steps = new float[channels];
        for (int c = 0; c < channels; c++) steps[c] = MathF.Max(scale.Value.Span[c], QParams.MinScale);
        var grid = new ChannelQParams(steps, zeroPoints, bits, 0);
        Tensor y = perChannel ? FakeQuant.Forward(x.Value, grid) : FakeQuant.Forward(x.Value, grid[0]);
        int qmax = (1 << bits) - 1;
        int perStep = x.Value.Size / channels;                       // elements under one Δ
        int n = perChannel ? perStep : x.Value.Size / Math.Max(1, x.Shape[0]);
        float g = 1f / MathF.Sqrt((float)n * qmax);
        return Var.Op(y, [x, scale], o =>
        {
            var dy = o.Grad!;
            x.AccumulateGrad(perChannel ? FakeQuant.Backward(x.Value, dy, grid) : FakeQuant.Backward(x.Value, dy, grid[0]), takeOwnership: true);
            if (!scale.RequiresGrad) return;
            var ds = Tensor.Zeros(channels);
            var xs = x.Value.Span;
            var gs = dy.Span;
            for (int c = 0; c < channels; c++)
            {
                float d = steps[c], inv = 1f / d, z = zeroPoints[c];
                double acc = 0;
                for (int i = c * perStep; i < (c + 1) * perStep; i++)
                {
                    float u = xs[i] * inv, r = MathF.Round(u), t = r + z;
                    float dxdd = t < 0f ? -z : t > qmax ? qmax - z : r - u;
                    acc += (double)gs[i] * dxdd;
                }
                ds.Span[c] = (float)(acc * g);
            }
            scale.AccumulateGrad(ds, takeOwnership: true);
        });
    }
}
