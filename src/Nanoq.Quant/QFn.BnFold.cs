using System.Runtime.CompilerServices;
using Nanoq.Autograd;

namespace Nanoq.Quant;

public static partial class QFn
{
    // Batch-norm folding (the paper's F, eq. 13–14; Jacob et al. 2018 §3.2; arithmetic on BnFold): the integer
    // runtime has no BN left, so QAT must quantize W_fold (what will actually run), not W.
    // With μ, σ² the frozen EMA statistics (F) they are constants; with batch statistics (eq. 11–12) they are
    // graph nodes and the gradient flows through them too. Both ops take μ, σ² as Vars for that reason.

    /// <summary>
    /// W_fold = W · γ / √(σ² + ε) (eq. 13): weight [cout, …], γ and σ² [cout].
    /// Backward, with r = (σ² + ε)^−½ and S_c = Σ_{i ∈ c} g_i W_i:
    /// ∂W = g · γ_c r_c;  ∂γ_c = S_c r_c;  ∂σ²_c = −½ S_c γ_c r_c³.
    /// </summary>
    public static Var FoldBnWeight(Var weight, Var gamma, Var variance, float eps)
    {
        int cout = CheckPerChannel(weight, nameof(FoldBnWeight), gamma, variance);
        int inner = weight.Value.Size / Math.Max(1, cout);
        var r = BnFold.InvStd(variance.Value.Span, eps);
        var s = BnFold.WeightFactors(gamma.Value.Span, r);
        var y = BnFold.ScaleRows(weight.Value, s);
        return Var.Op(y, [weight, gamma, variance], o =>
        {
            var g = o.Grad!.Span;
            var wv = weight.Value.Span;
            if (weight.RequiresGrad)
            {
                var dw = Tensor.Empty(weight.Shape);
                var d = dw.Span;
                for (int c = 0; c < cout; c++)
                    System.Numerics.Tensors.TensorPrimitives.Multiply(g.Slice(c * inner, inner), s[c], d.Slice(c * inner, inner));
                weight.AccumulateGrad(dw, takeOwnership: true);
            }
            if (gamma.RequiresGrad || variance.RequiresGrad)
            {
                var dg = Tensor.Empty(cout);
                var dv = Tensor.Empty(cout);
                var gm = gamma.Value.Span;
                var dots = System.Buffers.ArrayPool<double>.Shared.Rent(cout);   // no garbage a conv a training step
                RowDots(o.Grad!, weight.Value, cout, inner, dots);
                for (int c = 0; c < cout; c++)
                {
                    double sc = dots[c];
                    dg.Span[c] = (float)(sc * r[c]);
                    dv.Span[c] = (float)(-0.5 * sc * gm[c] * r[c] * r[c] * r[c]);
                }
                System.Buffers.ArrayPool<double>.Shared.Return(dots);
                gamma.AccumulateGrad(dg, takeOwnership: true);
                variance.AccumulateGrad(dv, takeOwnership: true);
            }
        });
    }

    /// <summary>
    /// b_fold = γ (b − μ) / √(σ² + ε) + β (eq. 14); all [cout], b null for a conv without bias (b = 0).
    /// Backward, with r = (σ² + ε)^−½: ∂b = g γ r;  ∂γ = g (b − μ) r;  ∂β = g;  ∂μ = −g γ r;  ∂σ² = −½ g γ (b − μ) r³.
    /// </summary>
    public static Var FoldBnBias(Var? bias, Var gamma, Var beta, Var mean, Var variance, float eps)
    {
        int cout = gamma.Value.Size;
        CheckVector(beta, cout, nameof(FoldBnBias)); CheckVector(mean, cout, nameof(FoldBnBias)); CheckVector(variance, cout, nameof(FoldBnBias));
        if (bias is not null) CheckVector(bias, cout, nameof(FoldBnBias));
        var r = BnFold.InvStd(variance.Value.Span, eps);
        var y = BnFold.Bias(bias?.Value, gamma.Value, beta.Value, mean.Value, variance.Value, eps);
        Var[] parents = bias is null ? [gamma, beta, mean, variance] : [bias, gamma, beta, mean, variance];
        return Var.Op(y, parents, o =>
        {
            var g = o.Grad!.Span;
            var db = Tensor.Empty(cout); var dg = Tensor.Empty(cout); var dm = Tensor.Empty(cout); var dv = Tensor.Empty(cout);
            var b0 = bias is null ? default : bias.Value.Span;
            var gam = gamma.Value.Span; var mu0 = mean.Value.Span;
            for (int c = 0; c < cout; c++)
            {
                double b = bias is null ? 0.0 : b0[c];
                double centered = b - mu0[c];
                db.Span[c] = (float)(g[c] * gam[c] * r[c]);
                dg.Span[c] = (float)(g[c] * centered * r[c]);
                dm.Span[c] = (float)(-g[c] * gam[c] * r[c]);
                dv.Span[c] = (float)(-0.5 * g[c] * gam[c] * centered * r[c] * r[c] * r[c]);
            }
            if (bias is not null) bias.AccumulateGrad(db, takeOwnership: true); else db.Dispose();
            gamma.AccumulateGrad(dg, takeOwnership: true);
            beta.AccumulateGrad(o.Grad!);
            mean.AccumulateGrad(dm, takeOwnership: true);
            variance.AccumulateGrad(dv, takeOwnership: true);
        });
    }

    /// <summary>
    /// The batch statistics of eq. 11–12: per-channel mean μ_B and biased variance σ²_B of y [n, c, h, w] over
    /// (n, h, w), built from differentiable ops (so batch-statistics folding backpropagates through them, as a BN layer
    /// in training mode does). Returns both [c].
    /// </summary>
    public static (Var Mean, Var Variance) BatchMoments(Var y)
    {
        ShapeCheck.Rank(y.Value, 4, nameof(BatchMoments));
        int n = y.Shape[0], c = y.Shape[1], count = n * y.Shape[2] * y.Shape[3];
        if (count == 0) throw new ArgumentException($"{nameof(BatchMoments)}: no values per channel in {y.Shape}.");
        var mean = Fn.Scale(SumNhw(y), 1f / count);
        var centered = Fn.Sub(y, Fn.Reshape(mean, 1, c, 1, 1));
        var variance = Fn.Scale(SumNhw(Fn.Square(centered)), 1f / count);
        return (mean, variance);
    }

    private static Var SumNhw(Var y) => Fn.Sum(Fn.Sum(Fn.Sum(y, 3), 2), 0);

    /// <summary>
    /// dots[c] = Σ_i a[c, i]·b[c, i] for rows c of <paramref name="inner"/> elements, each summed in double in index order
    /// (the products of floats are exact in double): four rows side by side, so four independent chains of adds hide
    /// the add's latency, and runs of rows on the kernel threads — each row's sum is the same sequence of operations,
    /// so the same bits, as one row at a time (which, latency-bound, took 1 % of a fine-tuning step).
    /// </summary>
    private static void RowDots(Tensor a, Tensor b, int rows, int inner, double[] dots)
    {
        float[] ab = a.Buffer, bb = b.Buffer;
        int ao = a.Offset, bo = b.Offset;
        Nanoq.Kernels.WorkSplit.For((rows + 3) / 4, 4L * inner, (q0, q1) =>
        {
            for (int c = 4 * q0; c < Math.Min(rows, 4 * q1); c += 4)
            {
                if (c + 4 > rows)
                {
                    for (int k = c; k < rows; k++) dots[k] = Dot(ab.AsSpan(ao + k * inner, inner), bb.AsSpan(bo + k * inner, inner));
                    continue;
                }
                // Rows c … c + 3 checked in range above; refs, so the loop carries no bounds checks.
                _ = ab.AsSpan(ao + c * inner, 4 * inner);
                _ = bb.AsSpan(bo + c * inner, 4 * inner);
                ref float a0 = ref ab[ao + c * inner], b0 = ref bb[bo + c * inner];
                ref float a1 = ref Unsafe.Add(ref a0, inner), b1 = ref Unsafe.Add(ref b0, inner);
                ref float a2 = ref Unsafe.Add(ref a1, inner), b2 = ref Unsafe.Add(ref b1, inner);
                ref float a3 = ref Unsafe.Add(ref a2, inner), b3 = ref Unsafe.Add(ref b2, inner);
                double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
                for (int i = 0; i < inner; i++)
                {
                    s0 += (double)Unsafe.Add(ref a0, i) * Unsafe.Add(ref b0, i);
                    s1 += (double)Unsafe.Add(ref a1, i) * Unsafe.Add(ref b1, i);
                    s2 += (double)Unsafe.Add(ref a2, i) * Unsafe.Add(ref b2, i);
                    s3 += (double)Unsafe.Add(ref a3, i) * Unsafe.Add(ref b3, i);
                }
                dots[c] = s0; dots[c + 1] = s1; dots[c + 2] = s2; dots[c + 3] = s3;
            }
        });
    }

    private static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += (double)a[i] * b[i];
        return s;
    }

    private static int CheckPerChannel(Var weight, string op, params Var[] perChannel)
    {
        if (weight.Value.Rank < 1) throw new ArgumentException($"{op}: weight must have an output-channel axis, got {weight.Shape}.");
        int cout = weight.Shape[0];
        foreach (var v in perChannel) CheckVector(v, cout, op);
        return cout;
    }

    private static void CheckVector(Var v, int n, string op)
    {
        if (v.Value.Rank != 1 || v.Shape[0] != n)
            throw new ArgumentException($"{op}: expected a per-channel vector [{n}], got {v.Shape} ({v.Name ?? "unnamed"}).");
    }
}
