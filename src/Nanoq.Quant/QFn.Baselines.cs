using Nanoq.Autograd;

namespace Nanoq.Quant;

public static partial class QFn
{
    // The quantizers of the paper's Table 5 baselines, as alternatives to affine fake quantization inside the same
    // pipeline (BN folded, every weight and activation quantized). Each is an STE op: the forward rounds, the
    // backward treats round (or sign) as the identity where the original method says so.

    /// <summary>
    /// DoReFa-Net k-bit weights (Zhou et al. 2016, arXiv:1606.06160, §2.5 eq. 9, with quantize_k of eq. 5):
    /// <code>
    ///     t = tanh(W),  M = max |t|
    ///     quantize_k(u) = round((2^k − 1) u) / (2^k − 1)
    ///     Ŵ = s · (2 · quantize_k(t / (2M) + ½) − 1),     s = max |W|
    /// </code>
    /// The factor s is ours: DoReFa's output lies in [−1, 1] and relies on the BN after the conv to restore the
    /// scale; with BN folded into W first (as here) the scale must be carried, and s = max|W| makes the largest
    /// weight map to itself (one float per layer, like a per-tensor Δ). The grid is affine with Δ = 2s/(2^k − 1)
    /// and zero point (2^k − 1)/2 — a half-integer, so 0 is not representable (DoReFa's known trait).
    /// Backward (STE through round, M and s held constant as DoReFa's reference code effectively does for s and
    /// we do for M, which touches one element): ∂Ŵ/∂W = s (1 − t²) / M. An all-zero W passes through unchanged.
    /// </summary>
    public static Var DoReFaWeight(Var weight, int bits)
    {
        QuantBits.Check(bits, nameof(DoReFaWeight));
        float n = (1 << bits) - 1;
        var w = weight.Value.Span;
        var t = new float[w.Length];
        float m = 0f, s = 0f;
        for (int i = 0; i < w.Length; i++)
        {
            t[i] = MathF.Tanh(w[i]);
            m = MathF.Max(m, MathF.Abs(t[i]));
            s = MathF.Max(s, MathF.Abs(w[i]));
        }
        var y = Tensor.Empty(weight.Shape);
        var ys = y.Span;
        if (m == 0f) w.CopyTo(ys);
        else
            for (int i = 0; i < w.Length; i++)
            {
                float u = t[i] / (2f * m) + 0.5f;
                float q = MathF.Round(u * n);                 // half to even, as everywhere in Nanoq.Quant
                ys[i] = s * (2f * q / n - 1f);
            }
        return Var.Op(y, [weight], o =>
        {
            var dw = Tensor.Empty(weight.Shape);
            var g = o.Grad!.Span;
            var d = dw.Span;
            if (m == 0f) g.CopyTo(d);
            else for (int i = 0; i < d.Length; i++) d[i] = g[i] * s * (1f - t[i] * t[i]) / m;
            weight.AccumulateGrad(dw, takeOwnership: true);
        });
    }

    /// <summary>
    /// DoReFa-Net k-bit activations (§2.6): clip to [0, 1], then quantize_k. That is affine fake quantization with the
    /// fixed range [0, 1]: Δ = 1/(2^k − 1), z = 0 (so <see cref="FakeQuantize(Var, QParams)"/>), and its STE mask is
    /// the clip's (within half a step of the ends). Since 1/Δ is float32 (fl(1/fl(1/15)) = 14.999999 at 4 bits), an
    /// exact tie such as x = 0.5 can land one step below DoReFa's round(15x); elsewhere the two agree. Keeping the
    /// affine form is what lets the integer runtime execute it.
    /// </summary>
    public static Var DoReFaActivation(Var x, int bits) => FakeQuantize(x, DoReFaActivationQParams(bits));

    /// <summary>Δ = 1/(2^k − 1), z = 0: the grid of <see cref="DoReFaActivation"/>.</summary>
    public static QParams DoReFaActivationQParams(int bits) => new(1f / ((1 << bits) - 1), 0, bits);

    /// <summary>
    /// XNOR-Net binary weights (Rastegari et al. 2016, arXiv:1603.05279, §3.1): per output channel c of W [cout, …]
    /// with n elements,
    /// <code>
    ///     α_c = ‖W_c‖₁ / n,     Ŵ = α_c · sign(W)      (sign(0) = +1, so every weight is binary)
    /// </code>
    /// Backward, the paper's §3.1 rule: ∂C/∂W_i = ∂C/∂Ŵ_i · (1/n + α_c · 1_{|W_i| ≤ 1}), the straight-through
    /// estimator of sign (Hubara et al.) plus the diagonal of α's own derivative.
    /// </summary>
    public static Var XnorWeight(Var weight)
    {
        if (weight.Value.Rank < 1 || weight.Shape[0] == 0) throw new ArgumentException($"{nameof(XnorWeight)}: weight {weight.Shape} has no output channels.");
        int cout = weight.Shape[0], n = weight.Value.Size / cout;
        var alpha = XnorScales(weight.Value);
        var y = Tensor.Empty(weight.Shape);
        var w = weight.Value.Span;
        var ys = y.Span;
        for (int c = 0; c < cout; c++)
            for (int i = c * n; i < (c + 1) * n; i++) ys[i] = w[i] >= 0f ? alpha[c] : -alpha[c];
        return Var.Op(y, [weight], o =>
        {
            var dw = Tensor.Empty(weight.Shape);
            var g = o.Grad!.Span;
            var d = dw.Span;
            var wv = weight.Value.Span;
            for (int c = 0; c < cout; c++)
                for (int i = c * n; i < (c + 1) * n; i++)
                    d[i] = g[i] * (1f / n + (MathF.Abs(wv[i]) <= 1f ? alpha[c] : 0f));
            weight.AccumulateGrad(dw, takeOwnership: true);
        });
    }

    /// <summary>α_c = mean |W_c| per output channel (XNOR-Net's optimal binary scale).</summary>
    public static float[] XnorScales(Tensor weight)
    {
        int cout = weight.Shape[0], n = weight.Size / cout;
        var w = weight.Span;
        var alpha = new float[cout];
        for (int c = 0; c < cout; c++)
        {
            double s = 0;
            for (int i = c * n; i < (c + 1) * n; i++) s += Math.Abs(w[i]);
            alpha[c] = (float)(s / n);
        }
        return alpha;
    }

    /// <summary>
    /// XNOR-Net sign activation (§3.2): y = +1 where x ≥ 0, else −1. Backward, the hard-tanh straight-through estimator
    /// of BinaryNet (Hubara et al. 2016) that XNOR-Net uses: ∂L/∂x = ∂L/∂y · 1_{|x| ≤ 1}. The per-position input scale K
    /// of §3.2 is left out: with BN folded into the next layer, a constant scale is absorbed by its weights.
    /// </summary>
    public static Var SignSte(Var x)
    {
        var y = Tensor.Empty(x.Shape);
        var xs = x.Value.Span;
        var ys = y.Span;
        for (int i = 0; i < xs.Length; i++) ys[i] = xs[i] >= 0f ? 1f : -1f;
        return Var.Op(y, [x], o =>
        {
            var dx = Tensor.Empty(x.Shape);
            var g = o.Grad!.Span;
            var d = dx.Span;
            var xv = x.Value.Span;
            for (int i = 0; i < d.Length; i++) d[i] = MathF.Abs(xv[i]) <= 1f ? g[i] : 0f;
            x.AccumulateGrad(dx, takeOwnership: true);
        });
    }
}
