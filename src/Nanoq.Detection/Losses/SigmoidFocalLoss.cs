using Nanoq.Autograd;

namespace Nanoq.Detection;

/// <summary>
/// Sigmoid focal loss (Lin et al. 2017, eq. 5; torchvision's <c>sigmoid_focal_loss</c>), fused with its backward:
/// <code>
///   p = σ(x),  ce = −[t log p + (1 − t) log(1 − p)],  p_t = p t + (1 − p)(1 − t),  α_t = α t + (1 − α)(1 − t)
///   FL = α_t (1 − p_t)^γ ce
///   ∂FL/∂x = α (1 − p)^γ (γ p log p − (1 − p))          where t = 1
///          = (1 − α) p^γ (p − γ (1 − p) log(1 − p))      where t = 0
/// </code>
/// log p = −softplus(−x) and log(1 − p) = −softplus(x) keep both ends finite for large |x|.
/// As in torchvision, α &lt; 0 means no α weighting at all (α_t = 1 for both targets, plain focal loss); α must not be NaN.
/// For RetinaNet the logits are [rows, K] and each row (anchor) has a label: k ∈ [0, K) a foreground class
/// (one-hot target), −1 background (all-zero target), −2 ignored (no loss, no gradient). Each row's loss is
/// multiplied by its weight (e.g. 1 / (number of foreground anchors of its image · images in the batch)),
/// and the result is the weighted sum, shape [1].
/// </summary>
public static class SigmoidFocalLoss
{
    public const int Background = -1, Ignore = -2;

    public static Var Forward(Var logits, ReadOnlySpan<int> rowLabels, ReadOnlySpan<float> rowWeights, float alpha = 0.25f, float gamma = 2f)
    {
        ShapeCheck.Rank(logits.Value, 2, nameof(SigmoidFocalLoss), "logits");
        if (float.IsNaN(alpha)) throw new ArgumentOutOfRangeException(nameof(alpha), $"{nameof(SigmoidFocalLoss)}: α is NaN (use a negative α for no α weighting).");
        int rows = logits.Shape[0], k = logits.Shape[1];
        if (rowLabels.Length != rows || rowWeights.Length != rows)
            throw new ArgumentException($"{nameof(SigmoidFocalLoss)}: {rowLabels.Length} labels and {rowWeights.Length} weights for logits {logits.Shape}.");
        for (int r = 0; r < rows; r++)   // serially first: a bad label fails here, naming the first bad row
        {
            int label = rowLabels[r];
            if (label == Ignore || rowWeights[r] == 0f) continue;
            if (label < Background || label >= k)
                throw new ArgumentOutOfRangeException(nameof(rowLabels), $"Row {r} has label {label}; expected −2, −1 or a class in [0, {k}).");
        }
        // Kept for the backward: the rows' labels and weights and each logit's ∂FL/∂x, made with its loss from the same
        // exp and log (LossAndGradient). Pooled (a batch's rows run to hundreds of KB), handed back when the tape is disposed.
        var labels = TensorPool.RentInt(rows);
        var weights = TensorPool.Rent(rows);
        var gradients = TensorPool.Rent(rows * k);
        rowLabels.CopyTo(labels);
        rowWeights.CopyTo(weights);
        var rowSums = System.Buffers.ArrayPool<double>.Shared.Rent(rows);
        bool Counts(int r) => labels[r] != Ignore && weights[r] != 0f;   // ignored rows and weight-0 rows add nothing
        var x = logits.Value;
        // Rows in parallel chunks; the total is summed in row order afterwards, so it does not depend on the split.
        Nanoq.Kernels.WorkSplit.For(rows, 32L * k, (r0, r1) =>
        {
            var xs = x.Span;
            for (int r = r0; r < r1; r++)
            {
                if (!Counts(r)) continue;
                double rowSum = 0;
                for (int c = 0; c < k; c++)
                {
                    var (loss, gradient) = LossAndGradient(xs[r * k + c], c == labels[r], alpha, gamma);
                    rowSum += loss;
                    gradients[r * k + c] = gradient;
                }
                rowSums[r] = rowSum;
            }
        });
        double total = 0;
        for (int r = 0; r < rows; r++)
            if (Counts(r)) total += weights[r] * rowSums[r];
        System.Buffers.ArrayPool<double>.Shared.Return(rowSums);
        var y = Tensor.FromArray([(float)total], 1);
        return Var.Op(y, [logits], o =>
        {
            float g = o.Grad!.Span[0];
            var dx = Tensor.Zeros(logits.Shape);
            var d = dx.Span;
            for (int r = 0; r < rows; r++)
            {
                if (!Counts(r)) continue;
                float scale = g * weights[r];
                for (int c = 0; c < k; c++) d[r * k + c] = scale * gradients[r * k + c];
            }
            logits.AccumulateGrad(dx, takeOwnership: true);
        }, release: () => { TensorPool.Return(labels); TensorPool.Return(weights); TensorPool.Return(gradients); });
    }

    /// <summary>
    /// <see cref="Loss"/> and <see cref="Gradient"/> of one logit, bit for bit, from one exp and one log: e = exp(−|x|)
    /// is the exp that σ(x) uses (1 / (1 + e) for x ≥ 0, e / (1 + e) below) and the one in the softplus the target needs
    /// (softplus(s) = max(s, 0) + log1p(e) for s = ±x), which Loss and Gradient each compute again. Why: the loss of a
    /// RetinaNet batch is hundreds of thousands of logits, and with four exps and two logs a logit it took 6 % of a
    /// training step on one core while the other slept (perf, the default configuration, Zen 4, 2026-12-07).
    /// </summary>
    private static (double Loss, float Gradient) LossAndGradient(float x, bool positive, float alpha, float gamma)
    {
        double xd = x;
        double e = Math.Exp(xd >= 0 ? -xd : xd);
        double p = xd >= 0 ? 1 / (1 + e) : e / (1 + e);
        double s = positive ? -xd : xd;
        double sp = s > 0 ? s + Log1P(e) : Log1P(e);
        return positive
            ? (AlphaT(alpha, true) * Pow(1 - p, gamma) * sp, (float)(AlphaT(alpha, true) * Pow(1 - p, gamma) * (-gamma * p * sp - (1 - p))))
            : (AlphaT(alpha, false) * Pow(p, gamma) * sp, (float)(AlphaT(alpha, false) * Pow(p, gamma) * (p + gamma * (1 - p) * sp)));
    }

    /// <summary>The focal loss of one logit against a 0/1 target.</summary>
    public static double Loss(float x, bool positive, float alpha, float gamma)
    {
        double p = Sigmoid(x);
        return positive
            ? AlphaT(alpha, true) * Pow(1 - p, gamma) * Softplus(-x)     // −log p = softplus(−x)
            : AlphaT(alpha, false) * Pow(p, gamma) * Softplus(x);        // −log(1 − p) = softplus(x)
    }

    /// <summary>∂FL/∂x of one logit.</summary>
    public static float Gradient(float x, bool positive, float alpha, float gamma)
    {
        double p = Sigmoid(x);
        return positive
            ? (float)(AlphaT(alpha, true) * Pow(1 - p, gamma) * (-gamma * p * Softplus(-x) - (1 - p)))
            : (float)(AlphaT(alpha, false) * Pow(p, gamma) * (p + gamma * (1 - p) * Softplus(x)));
    }

    /// <summary>α_t: α for a positive target, 1 − α for a negative one; 1 for both when α &lt; 0 (torchvision's "no weighting").</summary>
    private static double AlphaT(float alpha, bool positive) => alpha < 0 ? 1 : positive ? alpha : 1 - (double)alpha;

    private static double Sigmoid(double x) => x >= 0 ? 1 / (1 + Math.Exp(-x)) : Math.Exp(x) / (1 + Math.Exp(x));

    /// <summary>log(1 + eˣ) without overflow.</summary>
    private static double Softplus(double x) => x > 0 ? x + Log1P(Math.Exp(-x)) : Log1P(Math.Exp(x));

    /// <summary>log(1 + u) accurate for tiny u (Goldberg's trick: the rounding of 1 + u cancels in the ratio).</summary>
    private static double Log1P(double u)
    {
        double w = 1 + u;
        return w == 1 ? u : Math.Log(w) * u / (w - 1);
    }

    private static double Pow(double b, float gamma) => gamma == 2f ? b * b : Math.Pow(b, gamma);
}
