using Nanoq.Kernels;

namespace Nanoq.Autograd;

public static partial class Fn
{
    /// <summary>y = log softmax(x) along <paramref name="axis"/> = x − log Σ exp(x) (max-subtracted).
    /// Backward: dx = g − softmax(x) · Σ g.</summary>
    public static Var LogSoftmax(Var x, int axis = -1)
    {
        axis = x.Shape.Axis(axis);
        int outer = x.Shape.SizeOf(0, axis), len = x.Shape[axis], inner = x.Shape.SizeOf(axis + 1, x.Shape.Rank);
        var y = Tensor.Empty(x.Shape);
        Softmax.LogSoftmaxForward(x.Value.Span, outer, len, inner, y.Span);
        return Var.Op(y, [x], o =>
        {
            var dx = Tensor.Empty(x.Shape);
            Softmax.LogSoftmaxBackward(o.Value.Span, o.Grad!.Span, outer, len, inner, dx.Span);
            x.AccumulateGrad(dx, takeOwnership: true);
        });
    }

    /// <summary>y[i] = x[i, index[i]] for x of shape [n, c]; shape [n]. Backward scatters g into the picked cells.</summary>
    public static Var PickColumns(Var x, int[] index)
    {
        ShapeCheck.Rank(x.Value, 2, nameof(PickColumns));
        int n = x.Shape[0], c = x.Shape[1];
        if (index.Length != n) throw new ArgumentException($"{nameof(PickColumns)}: {index.Length} indices for {n} rows of {x.Shape}.");
        var y = Tensor.Empty(n);
        var xs = x.Value.Span;
        for (int i = 0; i < n; i++)
        {
            if ((uint)index[i] >= (uint)c) throw new ArgumentOutOfRangeException(nameof(index), $"Index {index[i]} at row {i} is outside [0, {c}).");
            y.Span[i] = xs[i * c + index[i]];
        }
        return Var.Op(y, [x], o =>
        {
            var dx = Tensor.Zeros(x.Shape);
            var g = o.Grad!.Span;
            for (int i = 0; i < n; i++) dx.Span[i * c + index[i]] = g[i];
            x.AccumulateGrad(dx, takeOwnership: true);
        });
    }

    /// <summary>Cross-entropy of logits [n, c] against class indices [n], averaged over n
    /// (<c>F.cross_entropy</c>): −(1/n) Σ log softmax(x)[i, tᵢ]. Built from primitives.</summary>
    public static Var CrossEntropy(Var logits, int[] targets) =>
        Scale(Mean(PickColumns(LogSoftmax(logits, 1), targets)), -1f);

    /// <summary>
    /// Smooth L1 (Huber with slope 1): ℓ = 0.5 d²/β if |d| &lt; β else |d| − 0.5β, with d = x − target
    /// (<c>F.smooth_l1_loss</c>; β = 0 is plain L1). Backward: d/β inside, sign(d) outside.
    /// </summary>
    public static Var SmoothL1Loss(Var x, Tensor target, float beta = 1f, Reduction reduction = Reduction.Mean)
    {
        ShapeCheck.Same(x.Value, target, nameof(SmoothL1Loss));
        int n = x.Value.Size;
        var loss = Tensor.Empty(x.Shape);
        var xs = x.Value.Span; var ts = target.Span; var ls = loss.Span;
        for (int i = 0; i < n; i++)
        {
            float d = xs[i] - ts[i], a = MathF.Abs(d);
            ls[i] = a < beta ? 0.5f * d * d / beta : a - 0.5f * beta;
        }
        var elementwise = Var.Op(loss, [x], o =>
        {
            var dx = Tensor.Empty(x.Shape);
            var g = o.Grad!.Span; var ds = dx.Span; var xs2 = x.Value.Span; var ts2 = target.Span;
            for (int i = 0; i < n; i++)
            {
                float d = xs2[i] - ts2[i];
                ds[i] = g[i] * (MathF.Abs(d) < beta ? d / beta : MathF.Sign(d));
            }
            x.AccumulateGrad(dx, takeOwnership: true);
        });
        return Reduce(elementwise, reduction);
    }

    /// <summary>L1 loss |x − target| (<c>F.l1_loss</c>); subgradient 0 at d = 0.</summary>
    public static Var L1Loss(Var x, Tensor target, Reduction reduction = Reduction.Mean) =>
        SmoothL1Loss(x, target, 0f, reduction);

    private static Var Reduce(Var v, Reduction reduction) => reduction switch
    {
        Reduction.None => v,
        Reduction.Sum => Sum(v),
        Reduction.Mean => Mean(v),
        _ => throw new ArgumentOutOfRangeException(nameof(reduction)),
    };
}
