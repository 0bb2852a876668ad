namespace Nanoq.Quant;

/// <summary>
/// Batch-norm folding on tensors (no autograd; <see cref="QFn.FoldBnWeight"/> and <see cref="QFn.FoldBnBias"/> wire it
/// into the graph). Conv then BN, y = γ (conv(x, W) + b − μ) / √(σ² + ε) + β, is one conv with
/// <code>
///     W_fold = W · γ / √(σ² + ε)                    (eq. 13, per output channel)
///     b_fold = γ (b − μ) / √(σ² + ε) + β            (eq. 14)
/// </code>
/// The per-channel factors are computed in double and rounded once; the element-wise products are float32.
/// </summary>
public static class BnFold
{
    /// <summary>r_c = 1 / √(σ²_c + ε) in double; throws where σ² + ε is not positive.</summary>
    public static double[] InvStd(ReadOnlySpan<float> variance, float eps)
    {
        var r = new double[variance.Length];
        for (int c = 0; c < r.Length; c++)
        {
            double v = (double)variance[c] + eps;
            if (!(v > 0)) throw new ArgumentException($"BN folding: σ² + ε = {v} at channel {c} is not positive.");
            r[c] = 1.0 / Math.Sqrt(v);
        }
        return r;
    }

    /// <summary>s_c = γ_c / √(σ²_c + ε), the per-channel weight factor, rounded to float32 once.</summary>
    public static float[] WeightFactors(ReadOnlySpan<float> gamma, double[] invStd)
    {
        var s = new float[gamma.Length];
        for (int c = 0; c < s.Length; c++) s[c] = (float)(gamma[c] * invStd[c]);
        return s;
    }

    /// <summary>W_fold = W · s_c, row c of W [cout, …] scaled by s[c]; a new pooled tensor.</summary>
    public static Tensor ScaleRows(Tensor weight, ReadOnlySpan<float> s)
    {
        int cout = weight.Shape[0], inner = cout == 0 ? 0 : weight.Size / cout;
        var y = Tensor.Empty(weight.Shape);
        var w = weight.Span;
        var ys = y.Span;
        for (int c = 0; c < cout; c++)
            System.Numerics.Tensors.TensorPrimitives.Multiply(w.Slice(c * inner, inner), s[c], ys.Slice(c * inner, inner));
        return y;
    }

    /// <summary>W_fold = W · γ / √(σ² + ε) (eq. 13).</summary>
    public static Tensor Weight(Tensor weight, Tensor gamma, Tensor variance, float eps) =>
        ScaleRows(weight, WeightFactors(gamma.Span, InvStd(variance.Span, eps)));

    /// <summary>b_fold = γ (b − μ) / √(σ² + ε) + β (eq. 14); <paramref name="bias"/> null means b = 0.</summary>
    public static Tensor Bias(Tensor? bias, Tensor gamma, Tensor beta, Tensor mean, Tensor variance, float eps)
    {
        var r = InvStd(variance.Span, eps);
        int cout = gamma.Size;
        var y = Tensor.Empty(cout);
        var gm = gamma.Span; var bt = beta.Span; var mu = mean.Span;
        var bv = bias is null ? default : bias.Span;
        for (int c = 0; c < cout; c++)
        {
            double b = bias is null ? 0.0 : bv[c];
            y.Span[c] = (float)(gm[c] * (b - mu[c]) * r[c] + bt[c]);
        }
        return y;
    }
}
