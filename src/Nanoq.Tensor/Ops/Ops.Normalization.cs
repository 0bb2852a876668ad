using Nanoq.Kernels;

namespace Nanoq;

public static partial class Ops
{
    // Tensor wrappers of Kernels.BatchNorm2d. x is [n, c, …] (NCHW, or [n, c] for BatchNorm1d); statistics are
    // per channel (axis 1) over every other axis. gamma/beta null means affine = false.

    /// <summary>
    /// Training-mode batch norm: y = γ (x − μ_B) / √(σ²_B + ε) + β with batch statistics; updates runningMean and
    /// runningVar in place (momentum, unbiased variance, as PyTorch) unless they are null. saveMean/saveInvStd: [c]
    /// for <see cref="BatchNorm2dBackward"/>.
    /// </summary>
    public static Tensor BatchNorm2dTrain(Tensor x, Tensor? gamma, Tensor? beta, Tensor? runningMean, Tensor? runningVar,
        float momentum, float eps, out Tensor saveMean, out Tensor saveInvStd)
    {
        var (n, c, hw) = Nc(x, nameof(BatchNorm2dTrain));
        var y = Tensor.Empty(x.Shape);
        saveMean = Tensor.Empty(c);
        saveInvStd = Tensor.Empty(c);
        BatchNorm2d.ForwardTraining(x.Span, n, c, hw, Opt(gamma), Opt(beta), eps, momentum,
            OptW(runningMean), OptW(runningVar), y.Span, saveMean.Span, saveInvStd.Span);
        return y;
    }

    /// <summary>Eval-mode batch norm with the running statistics: y = γ (x − μ) / √(σ² + ε) + β.</summary>
    public static Tensor BatchNorm2dEval(Tensor x, Tensor? gamma, Tensor? beta, Tensor runningMean, Tensor runningVar, float eps)
    {
        var (n, c, hw) = Nc(x, nameof(BatchNorm2dEval));
        var y = Tensor.Empty(x.Shape);
        BatchNorm2d.ForwardEval(x.Span, n, c, hw, Opt(gamma), Opt(beta), runningMean.Span, runningVar.Span, eps, y.Span);
        return y;
    }

    /// <summary>
    /// Training-mode backward: dx (returned), dgamma and dbeta ([c]; empty tensors when gamma is null) from dy, x and the
    /// saved batch statistics.
    /// </summary>
    public static Tensor BatchNorm2dBackward(Tensor dy, Tensor x, Tensor? gamma, Tensor saveMean, Tensor saveInvStd,
        out Tensor dgamma, out Tensor dbeta)
    {
        ShapeCheck.Same(dy, x, nameof(BatchNorm2dBackward));
        var (n, c, hw) = Nc(x, nameof(BatchNorm2dBackward));
        var dx = Tensor.Empty(x.Shape);
        dgamma = Tensor.Empty(gamma is null ? 0 : c);
        dbeta = Tensor.Empty(gamma is null ? 0 : c);
        BatchNorm2d.Backward(dy.Span, x.Span, n, c, hw, Opt(gamma), saveMean.Span, saveInvStd.Span, dx.Span, dgamma.Span, dbeta.Span);
        return dx;
    }

    /// <summary>Eval-mode (frozen statistics) backward: dx = dy γ / √(σ² + ε); dgamma, dbeta as in training.</summary>
    public static Tensor BatchNorm2dEvalBackward(Tensor dy, Tensor x, Tensor? gamma, Tensor runningMean, Tensor runningVar, float eps,
        out Tensor dgamma, out Tensor dbeta)
    {
        ShapeCheck.Same(dy, x, nameof(BatchNorm2dEvalBackward));
        var (n, c, hw) = Nc(x, nameof(BatchNorm2dEvalBackward));
        var dx = Tensor.Empty(x.Shape);
        dgamma = Tensor.Empty(gamma is null ? 0 : c);
        dbeta = Tensor.Empty(gamma is null ? 0 : c);
        BatchNorm2d.BackwardEval(dy.Span, x.Span, n, c, hw, Opt(gamma), runningMean.Span, runningVar.Span, eps, dx.Span, dgamma.Span, dbeta.Span);
        return dx;
    }

    private static (int N, int C, int Hw) Nc(Tensor x, string op)
    {
        if (x.Rank < 2) throw new ArgumentException($"{op}: expected [n, c, …], got shape {x.Shape}.");
        return (x.Dim(0), x.Dim(1), x.Shape.SizeOf(2, x.Rank));
    }

    private static ReadOnlySpan<float> Opt(Tensor? t) => t is null ? default : t.Span;
    private static Span<float> OptW(Tensor? t) => t is null ? default : t.Span;
}
