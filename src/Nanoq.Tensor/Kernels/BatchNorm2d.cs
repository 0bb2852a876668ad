using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Nanoq.Kernels;

/// <summary>
/// Batch normalization over x: [n, c, hw] (NCHW with hw = h·w; hw = 1 gives BatchNorm1d on [n, c]), per channel:
/// <code>
///   training:  μ = mean(x[:, c, :]),  σ² = mean((x − μ)²)   (biased, over m = n·hw values)
///              invstd = 1 / √(σ² + ε),  y = γ (x − μ) · invstd + β
///              running_mean ← (1 − momentum) running_mean + momentum · μ
///              running_var  ← (1 − momentum) running_var  + momentum · σ² · m / (m − 1)   (unbiased, as PyTorch)
///   eval:      y = γ (x − running_mean) / √(running_var + ε) + β
///   backward:  x̂ = (x − μ) invstd,  dβ = Σ dy,  dγ = Σ dy x̂,
///              dx = γ invstd / m · (m dy − dβ − x̂ dγ)
/// </code>
/// Statistics and gradient sums accumulate in double (one pass with a shift, see <see cref="Summation.ShiftedMoments"/>),
/// so they stay accurate for large n·h·w. Empty gamma/beta spans mean γ = 1, β = 0 (affine = false).
/// Channels run in parallel when large; each channel's sums are computed in one fixed order (deterministic).
/// </summary>
public static unsafe class BatchNorm2d
{
    /// <summary>
    /// Training-mode forward. Writes y: [n, c, hw], the batch mean and invstd: [c] (saved for <see cref="Backward"/>),
    /// and updates runningMean/runningVar: [c] in place (pass empty spans to skip the update).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ForwardTraining(ReadOnlySpan<float> x, int n, int c, int hw,
        ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, float eps, float momentum,
        Span<float> runningMean, Span<float> runningVar,
        Span<float> y, Span<float> saveMean, Span<float> saveInvStd)
    {
        Check(x.Length, y.Length, n, c, hw, gamma, beta, "ForwardTraining");
        CheckChannel(saveMean.Length, c, "saveMean");
        CheckChannel(saveInvStd.Length, c, "saveInvStd");
        bool update = !runningMean.IsEmpty || !runningVar.IsEmpty;
        if (update)
        {
            CheckChannel(runningMean.Length, c, "runningMean");
            CheckChannel(runningVar.Length, c, "runningVar");
        }
        long m = (long)n * hw;
        if (m == 1)
            throw new ArgumentException($"BatchNorm2d: expected more than 1 value per channel when training, got input [{n}, {c}, {hw}].");
        if (m == 0)
        {
            // An empty batch has no statistics: leave the running ones alone (as PyTorch does for numel() == 0).
            saveMean.Clear();
            saveInvStd.Clear();
            return;
        }
        fixed (float* px = x)
        fixed (float* py = y)
        fixed (float* pg = gamma)
        fixed (float* pb = beta)
        fixed (float* pm = saveMean)
        fixed (float* pi = saveInvStd)
        fixed (float* prm = runningMean)
        fixed (float* prv = runningVar)
        {
            nint ax = (nint)px, ay = (nint)py, ag = (nint)pg, ab = (nint)pb, am = (nint)pm, ai = (nint)pi, arm = (nint)prm, arv = (nint)prv;
            bool affine = !gamma.IsEmpty;
            WorkSplit.For(c, 2 * m, (c0, c1) =>
            {
                for (int ch = c0; ch < c1; ch++)
                {
                    float* xs = (float*)ax + (long)ch * hw;
                    long stride = (long)c * hw;
                    // One pass: Σd, Σd² with d = x − K, K = the channel's first value (keeps the variance exact-ish).
                    double shift = xs[0], s = 0, s2 = 0;
                    for (int b = 0; b < n; b++)
                    {
                        var (a1, a2) = Summation.ShiftedMoments(new ReadOnlySpan<float>(xs + b * stride, hw), shift);
                        s += a1;
                        s2 += a2;
                    }
                    double meanShifted = s / m;
                    double mean = shift + meanShifted;
                    double var = Math.Max(s2 / m - meanShifted * meanShifted, 0.0);
                    double invstd = 1.0 / Math.Sqrt(var + eps);
                    ((float*)am)[ch] = (float)mean;
                    ((float*)ai)[ch] = (float)invstd;
                    if (update)
                    {
                        float* rm = (float*)arm, rv = (float*)arv;
                        rm[ch] = (float)((1.0 - momentum) * rm[ch] + momentum * mean);
                        rv[ch] = (float)((1.0 - momentum) * rv[ch] + momentum * var * m / (m - 1));
                    }
                    double g = affine ? ((float*)ag)[ch] : 1.0, be = affine ? ((float*)ab)[ch] : 0.0;
                    var op = new Centered(mean, (float)(g * invstd), (float)be);
                    float* ys = (float*)ay + (long)ch * hw;
                    for (int b = 0; b < n; b++)
                        SimdMap.Map(op, new ReadOnlySpan<float>(xs + b * stride, hw), new Span<float>(ys + b * stride, hw));
                }
            });
        }
    }

    /// <summary>Eval-mode forward: y = γ (x − running_mean) / √(running_var + ε) + β. y may alias x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ForwardEval(ReadOnlySpan<float> x, int n, int c, int hw,
        ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, ReadOnlySpan<float> runningMean, ReadOnlySpan<float> runningVar,
        float eps, Span<float> y)
    {
        Check(x.Length, y.Length, n, c, hw, gamma, beta, "ForwardEval");
        CheckChannel(runningMean.Length, c, "runningMean");
        CheckChannel(runningVar.Length, c, "runningVar");
        bool affine = !gamma.IsEmpty;
        for (int ch = 0; ch < c; ch++)
        {
            double invstd = 1.0 / Math.Sqrt(runningVar[ch] + (double)eps);
            double g = affine ? gamma[ch] : 1.0, be = affine ? beta[ch] : 0.0;
            var op = new Centered(runningMean[ch], (float)(g * invstd), (float)be);
            for (int b = 0; b < n; b++)
            {
                int at = (b * c + ch) * hw;
                SimdMap.Map(op, x.Slice(at, hw), y.Slice(at, hw));
            }
        }
    }

    /// <summary>
    /// Training-mode backward: from dy, x: [n, c, hw] and the saved mean, invstd: [c], writes dx: [n, c, hw] and
    /// dgamma, dbeta: [c] (overwritten; pass empty spans when affine = false). dx may alias dy.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, int n, int c, int hw,
        ReadOnlySpan<float> gamma, ReadOnlySpan<float> saveMean, ReadOnlySpan<float> saveInvStd,
        Span<float> dx, Span<float> dgamma, Span<float> dbeta)
    {
        Check(x.Length, dx.Length, n, c, hw, gamma, gamma, "Backward");
        if (dy.Length != x.Length) throw new ArgumentException($"BatchNorm2d.Backward: dy has {dy.Length} elements, x has {x.Length}.");
        CheckChannel(saveMean.Length, c, "saveMean");
        CheckChannel(saveInvStd.Length, c, "saveInvStd");
        if (!dgamma.IsEmpty) CheckChannel(dgamma.Length, c, "dgamma");
        if (!dbeta.IsEmpty) CheckChannel(dbeta.Length, c, "dbeta");
        long m = (long)n * hw;
        fixed (float* pg = dy)
        fixed (float* px = x)
        fixed (float* pgam = gamma)
        fixed (float* pm = saveMean)
        fixed (float* pi = saveInvStd)
        fixed (float* pd = dx)
        fixed (float* pdg = dgamma)
        fixed (float* pdb = dbeta)
        {
            nint agr = (nint)pg, ax = (nint)px, agam = (nint)pgam, am = (nint)pm, ai = (nint)pi, ad = (nint)pd, adg = (nint)pdg, adb = (nint)pdb;
            bool affine = !gamma.IsEmpty, wantDg = !dgamma.IsEmpty, wantDb = !dbeta.IsEmpty;
            WorkSplit.For(c, 3 * m, (c0, c1) =>
            {
                long stride = (long)c * hw;
                for (int ch = c0; ch < c1; ch++)
                {
                    float* gs = (float*)agr + (long)ch * hw;
                    float* xs = (float*)ax + (long)ch * hw;
                    float* ds = (float*)ad + (long)ch * hw;
                    double mean = ((float*)am)[ch], invstd = ((float*)ai)[ch];
                    double sumDy = 0, sumDyXc = 0; // Σ dy, Σ dy (x − μ)
                    for (int b = 0; b < n; b++)
                    {
                        var (s, d) = Summation.SumAndDot(new ReadOnlySpan<float>(gs + b * stride, hw), new ReadOnlySpan<float>(xs + b * stride, hw), mean);
                        sumDy += s;
                        sumDyXc += d;
                    }
                    double dBeta = sumDy, dGamma = sumDyXc * invstd;
                    if (wantDg) ((float*)adg)[ch] = (float)dGamma;
                    if (wantDb) ((float*)adb)[ch] = (float)dBeta;
                    if (m == 0) continue;
                    double gam = affine ? ((float*)agam)[ch] : 1.0;
                    // dx = γ invstd / m (m dy − dβ − x̂ dγ) = a·dy + k·(x − μ) + k0, with
                    // a = γ invstd, k = −γ invstd² dγ / m, k0 = −γ invstd dβ / m.
                    double a = gam * invstd;
                    var op = new BackwardCombine((float)mean, (float)a, (float)(-a * invstd * dGamma / m), (float)(-a * dBeta / m));
                    for (int b = 0; b < n; b++)
                        SimdMap.Map(op, new ReadOnlySpan<float>(gs + b * stride, hw), new ReadOnlySpan<float>(xs + b * stride, hw),
                            new Span<float>(ds + b * stride, hw));
                }
            });
        }
    }

    /// <summary>
    /// Eval-mode (frozen statistics) backward: dx = dy · γ / √(running_var + ε); dγ = Σ dy x̂ with
    /// x̂ = (x − running_mean) / √(running_var + ε); dβ = Σ dy. dx may alias dy.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BackwardEval(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, int n, int c, int hw,
        ReadOnlySpan<float> gamma, ReadOnlySpan<float> runningMean, ReadOnlySpan<float> runningVar, float eps,
        Span<float> dx, Span<float> dgamma, Span<float> dbeta)
    {
        Check(x.Length, dx.Length, n, c, hw, gamma, gamma, "BackwardEval");
        if (dy.Length != x.Length) throw new ArgumentException($"BatchNorm2d.BackwardEval: dy has {dy.Length} elements, x has {x.Length}.");
        CheckChannel(runningMean.Length, c, "runningMean");
        CheckChannel(runningVar.Length, c, "runningVar");
        if (!dgamma.IsEmpty) CheckChannel(dgamma.Length, c, "dgamma");
        if (!dbeta.IsEmpty) CheckChannel(dbeta.Length, c, "dbeta");
        bool affine = !gamma.IsEmpty;
        for (int ch = 0; ch < c; ch++)
        {
            double invstd = 1.0 / Math.Sqrt(runningVar[ch] + (double)eps), mean = runningMean[ch];
            double sumDy = 0, sumDyXc = 0;
            for (int b = 0; b < n; b++)
            {
                int at = (b * c + ch) * hw;
                var (s, d) = Summation.SumAndDot(dy.Slice(at, hw), x.Slice(at, hw), mean);
                sumDy += s;
                sumDyXc += d;
            }
            if (!dgamma.IsEmpty) dgamma[ch] = (float)(sumDyXc * invstd);
            if (!dbeta.IsEmpty) dbeta[ch] = (float)sumDy;
            float a = (float)((affine ? gamma[ch] : 1.0) * invstd);
            for (int b = 0; b < n; b++)
            {
                int at = (b * c + ch) * hw;
                TensorPrimitives.Multiply(dy.Slice(at, hw), a, dx.Slice(at, hw));
            }
        }
    }

    /// <summary>
    /// y = (x − μ) · scale + bias, with μ split into float parts hi + lo: x − hi is exact for x near μ (Sterbenz),
    /// so y stays accurate even when |μ| ≫ σ — where the folded form x · scale + (bias − μ · scale) that cuDNN and
    /// PyTorch's CPU kernel use cancels large terms in float.
    /// </summary>
    private readonly struct Centered : SimdMap.IUnary
    {
        private readonly float _hi, _lo, _scale, _bias;

        public Centered(double mu, float scale, float bias)
        {
            _hi = (float)mu;
            _lo = (float)(mu - _hi);
            _scale = scale;
            _bias = bias;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float Invoke(float x) => MathF.FusedMultiplyAdd(x - _hi - _lo, _scale, _bias);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<float> Invoke(Vector256<float> x)
            => Vector256.FusedMultiplyAdd(x - Vector256.Create(_hi) - Vector256.Create(_lo), Vector256.Create(_scale), Vector256.Create(_bias));
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<float> Invoke(Vector512<float> x)
            => Vector512.FusedMultiplyAdd(x - Vector512.Create(_hi) - Vector512.Create(_lo), Vector512.Create(_scale), Vector512.Create(_bias));
    }

    /// <summary>dx = a · dy + k · (x − μ) + k0.</summary>
    private readonly struct BackwardCombine(float mu, float a, float k, float k0) : SimdMap.IBinary
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float Invoke(float dy, float x) => MathF.FusedMultiplyAdd(a, dy, MathF.FusedMultiplyAdd(k, x - mu, k0));
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<float> Invoke(Vector256<float> dy, Vector256<float> x)
            => Vector256.FusedMultiplyAdd(Vector256.Create(a), dy,
                Vector256.FusedMultiplyAdd(Vector256.Create(k), x - Vector256.Create(mu), Vector256.Create(k0)));
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<float> Invoke(Vector512<float> dy, Vector512<float> x)
            => Vector512.FusedMultiplyAdd(Vector512.Create(a), dy,
                Vector512.FusedMultiplyAdd(Vector512.Create(k), x - Vector512.Create(mu), Vector512.Create(k0)));
    }

    private static void Check(int xLen, int yLen, int n, int c, int hw, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, string op)
    {
        if (n < 0 || c < 0 || hw < 0) throw new ArgumentException($"BatchNorm2d.{op}: negative shape [{n}, {c}, {hw}].");
        long size = (long)n * c * hw;
        if (xLen != size || yLen != size)
            throw new ArgumentException($"BatchNorm2d.{op}: [{n}, {c}, {hw}] needs {size} elements; got {xLen} and {yLen}.");
        if (!gamma.IsEmpty) CheckChannel(gamma.Length, c, "gamma");
        if (gamma.IsEmpty != beta.IsEmpty) throw new ArgumentException($"BatchNorm2d.{op}: gamma and beta must both be given or both be empty.");
        if (!beta.IsEmpty) CheckChannel(beta.Length, c, "beta");
    }

    private static void CheckChannel(int len, int c, string name)
    {
        if (len != c) throw new ArgumentException($"BatchNorm2d: {name} has {len} elements, expected one per channel ({c}).");
    }
}
