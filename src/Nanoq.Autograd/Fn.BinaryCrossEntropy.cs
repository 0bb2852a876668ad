namespace Nanoq.Autograd;

public static partial class Fn
{
    /// <summary>
    /// Binary cross-entropy on logits (<c>F.binary_cross_entropy_with_logits</c>, no weights), elementwise against
    /// targets t in [0, 1], in PyTorch's overflow-safe form:
    /// <code>
    ///   ℓ = (1 − t)·x + m + log(exp(−m) + exp(−x − m)),   m = max(−x, 0)     ( = −t log σ(x) − (1 − t) log(1 − σ(x)) )
    /// </code>
    /// Backward: ∂ℓ/∂x = σ(x) − t — smooth everywhere, which a composite of Relu/Abs would not be at x = 0. The RPN's
    /// objectness loss (mean over the sampled anchors).
    /// </summary>
    public static Var BinaryCrossEntropyWithLogits(Var x, Tensor target, Reduction reduction = Reduction.Mean)
    {
        ShapeCheck.Same(x.Value, target, nameof(BinaryCrossEntropyWithLogits));
        int n = x.Value.Size;
        var loss = Tensor.Empty(x.Shape);
        var xs = x.Value.Span; var ts = target.Span; var ls = loss.Span;
        for (int i = 0; i < n; i++)
        {
            float v = xs[i], m = MathF.Max(-v, 0f);
            ls[i] = (1f - ts[i]) * v + m + MathF.Log(MathF.Exp(-m) + MathF.Exp(-v - m));
        }
        var elementwise = Var.Op(loss, [x], o =>
        {
            var dx = Tensor.Empty(x.Shape);
            var g = o.Grad!.Span; var ds = dx.Span; var xs2 = x.Value.Span; var ts2 = target.Span;
            for (int i = 0; i < n; i++) ds[i] = g[i] * (1f / (1f + MathF.Exp(-xs2[i])) - ts2[i]);
            x.AccumulateGrad(dx, takeOwnership: true);
        });
        return Reduce(elementwise, reduction);
    }
}
