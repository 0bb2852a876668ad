namespace Nanoq.Autograd;

/// <summary>
/// Compares an op's analytic gradient with central differences (DESIGN.md §3).
///
/// The op f maps the inputs to a tensor y; the check projects it on fixed random weights r to the scalar
/// L = Σ r ⊙ y (accumulated in double), so every output element contributes with its own weight. For each
/// checked input element, ∂L/∂x ≈ (L(x + ε) − L(x − ε)) / 2ε, evaluated in double from float32 forwards;
/// the analytic value must agree within <c>atol + rtol·|numeric|</c>. Float32 forwards make ε a trade-off:
/// too small and rounding dominates, too large and curvature does; 1e-3 with inputs of order 1 suits
/// smooth ops (keep inputs away from kinks such as ReLU's 0 or a pooling tie).
/// </summary>
public static class GradCheck
{
    public sealed record Result(bool Ok, double MaxAbsError, string Detail);

    /// <param name="f">the op under test; must be deterministic.</param>
    /// <param name="inputs">input values; each becomes a leaf that requires grad (values are restored after).</param>
    /// <param name="maxChecksPerInput">at most this many elements per input are perturbed (evenly spread).</param>
    public static Result Check(Func<Var[], Var> f, Tensor[] inputs, double eps = 1e-3, double atol = 1e-3,
                               double rtol = 1e-2, int maxChecksPerInput = 64, ulong seed = 1234)
    {
        var leaves = inputs.Select((t, i) => new Var(t, requiresGrad: true, name: $"input{i}")).ToArray();
        var y = f(leaves);
        var rng = new Rng(seed);
        var r = new float[y.Value.Size];
        rng.FillUniform(r, -1f, 1f);
        var rTensor = Tensor.FromArray(r, y.Shape.ToArray());

        y.Backward(rTensor); // ∂L/∂y = r

        double Loss()
        {
            using var _ = GradMode.NoGrad();
            var s = f(leaves).Value.Span;
            double acc = 0;
            for (int i = 0; i < s.Length; i++) acc += (double)r[i] * s[i];
            return acc;
        }

        double maxErr = 0;
        for (int k = 0; k < leaves.Length; k++)
        {
            var x = inputs[k].Span;
            var analytic = leaves[k].Grad?.ToArray() ?? new float[x.Length];
            int n = x.Length;
            int step = Math.Max(1, n / Math.Max(1, maxChecksPerInput));
            for (int i = 0; i < n; i += step)
            {
                float orig = x[i];
                x[i] = orig + (float)eps;
                double lp = Loss();
                x[i] = orig - (float)eps;
                double lm = Loss();
                x[i] = orig;
                // The float perturbation actually applied can differ from ε; divide by what was applied.
                double h = (double)(orig + (float)eps) - (double)(orig - (float)eps);
                double numeric = (lp - lm) / h;
                double err = Math.Abs(numeric - analytic[i]);
                maxErr = Math.Max(maxErr, err);
                if (err > atol + rtol * Math.Abs(numeric))
                    return new Result(false, err, $"input {k} {inputs[k].Shape} element {i}: analytic {analytic[i]:G6}, numeric {numeric:G6}");
            }
        }
        return new Result(true, maxErr, "ok");
    }
}
