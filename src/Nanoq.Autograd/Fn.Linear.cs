using Nanoq.Kernels;

namespace Nanoq.Autograd;

public static partial class Fn
{
    /// <summary>
    /// y = op(a) · op(b), op = transpose when asked; a [m, k] (or [k, m]), b [k, n] (or [n, k]) → y [m, n].
    /// Backward: da = g · op(b)ᵀ (transposed back if a was), db = op(a)ᵀ · g — each one SGEMM.
    /// </summary>
    public static Var MatMul(Var a, Var b, bool transA = false, bool transB = false)
    {
        ShapeCheck.Rank(a.Value, 2, nameof(MatMul), "a");
        ShapeCheck.Rank(b.Value, 2, nameof(MatMul), "b");
        int m = transA ? a.Shape[1] : a.Shape[0], k = transA ? a.Shape[0] : a.Shape[1];
        int kb = transB ? b.Shape[1] : b.Shape[0], n = transB ? b.Shape[0] : b.Shape[1];
        if (k != kb) throw new ArgumentException($"{nameof(MatMul)}: inner dimensions differ for {a.Shape}{(transA ? "ᵀ" : "")} · {b.Shape}{(transB ? "ᵀ" : "")}.");
        var y = Tensor.Empty(m, n);
        Gemm.Sgemm(transA, transB, m, n, k, 1f, a.Value.Span, a.Shape[1], b.Value.Span, b.Shape[1], 0f, y.Span, n);
        return Var.Op(y, [a, b], o =>
        {
            var g = o.Grad!;
            if (a.RequiresGrad)
            {
                // transA: da [k, m] = op(b) · gᵀ; else da [m, k] = g · op(b)ᵀ.
                var da = Tensor.Empty(a.Shape);
                if (transA) Gemm.Sgemm(transB, true, k, m, n, 1f, b.Value.Span, b.Shape[1], g.Span, n, 0f, da.Span, m);
                else Gemm.Sgemm(false, !transB, m, k, n, 1f, g.Span, n, b.Value.Span, b.Shape[1], 0f, da.Span, k);
                a.AccumulateGrad(da, takeOwnership: true);
            }
            if (b.RequiresGrad)
            {
                // transB: db [n, k] = gᵀ · op(a); else db [k, n] = op(a)ᵀ · g.
                var db = Tensor.Empty(b.Shape);
                if (transB) Gemm.Sgemm(true, transA, n, k, m, 1f, g.Span, n, a.Value.Span, a.Shape[1], 0f, db.Span, k);
                else Gemm.Sgemm(!transA, false, k, n, m, 1f, a.Value.Span, a.Shape[1], g.Span, n, 0f, db.Span, n);
                b.AccumulateGrad(db, takeOwnership: true);
            }
        });
    }

    /// <summary>y = x Wᵀ + b: x [n, in], weight [out, in], bias [out] → [n, out] (<c>F.linear</c>).</summary>
    public static Var Linear(Var x, Var weight, Var? bias)
    {
        var y = MatMul(x, weight, transB: true);
        return bias is null ? y : Add(y, bias);
    }

    /// <summary>
    /// 2-D convolution (cross-correlation, as PyTorch): x [n, cin, h, w], weight [cout, cin/groups, kh, kw],
    /// bias [cout] → y [n, cout, oh, ow]. Forward and both gradients are the Nanoq.Tensor kernels
    /// (implicit GEMM; depthwise has a direct kernel).
    /// </summary>
    public static Var Conv2d(Var x, Var weight, Var? bias, int stride = 1, int padding = 0, int dilation = 1, int groups = 1)
    {
        ShapeCheck.Rank(x.Value, 4, nameof(Conv2d), "input");
        ShapeCheck.Rank(weight.Value, 4, nameof(Conv2d), "weight");
        var ws = weight.Shape;
        if (x.Shape[1] != ws[1] * groups)
            throw new ArgumentException($"{nameof(Conv2d)}: input {x.Shape} has {x.Shape[1]} channels but weight {ws} with groups={groups} expects {ws[1] * groups}.");
        if (bias is not null && (bias.Value.Rank != 1 || bias.Shape[0] != ws[0]))
            throw new ArgumentException($"{nameof(Conv2d)}: bias {bias.Shape} does not match weight {ws}.");
        var geo = new Conv2dGeometry(x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3], ws[0], ws[2], ws[3],
                                     stride, stride, padding, padding, dilation, dilation, groups);
        var y = Tensor.Empty(geo.Batch, geo.OutChannels, geo.OutHeight, geo.OutWidth);
        Conv2dKernels.Conv2dForward(geo, x.Value.Span, weight.Value.Span, bias is null ? default : bias.Value.Span, y.Span);
        Var[] parents = bias is null ? [x, weight] : [x, weight, bias];
        return Var.Op(y, parents, o =>
        {
            var g = o.Grad!;
            if (x.RequiresGrad)
            {
                var dx = Tensor.Empty(x.Shape);
                Conv2dKernels.Conv2dBackwardInput(geo, g.Span, weight.Value.Span, dx.Span);
                x.AccumulateGrad(dx, takeOwnership: true);
            }
            if (weight.RequiresGrad || (bias?.RequiresGrad ?? false))
            {
                var dw = Tensor.Empty(weight.Shape);
                var db = bias is null ? null : Tensor.Empty(bias.Shape);
                Conv2dKernels.Conv2dBackwardWeight(geo, x.Value.Span, g.Span, dw.Span, db is null ? default : db.Span);
                weight.AccumulateGrad(dw, takeOwnership: true);
                if (db is not null) bias!.AccumulateGrad(db, takeOwnership: true);
            }
        });
    }
}
