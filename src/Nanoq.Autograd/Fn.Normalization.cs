namespace Nanoq.Autograd;

public static partial class Fn
{
    /// <summary>
    /// Batch norm over (N, H, W) per channel: y = γ (x − μ) / √(σ² + ε) + β for x [n, c, h, w] (or [n, c]).
    /// With <paramref name="useBatchStats"/>, μ and σ² are the batch's (biased variance) and the running
    /// statistics are updated in place (momentum, unbiased variance — PyTorch's rule); otherwise the running
    /// statistics are used and left alone (eval mode, or the frozen BN of the paper), and the backward is the
    /// affine map's: dx = g γ / √(σ² + ε).
    /// </summary>
    public static Var BatchNorm2d(Var x, Var gamma, Var beta, Tensor runningMean, Tensor runningVar,
                                  bool useBatchStats, float momentum, float eps)
    {
        if (useBatchStats)
        {
            var y = Ops.BatchNorm2dTrain(x.Value, gamma.Value, beta.Value, runningMean, runningVar, momentum, eps,
                                         out var saveMean, out var saveInvStd);
            return Var.Op(y, [x, gamma, beta], o =>
            {
                var dx = Ops.BatchNorm2dBackward(o.Grad!, x.Value, gamma.Value, saveMean, saveInvStd, out var dg, out var db);
                x.AccumulateGrad(dx, takeOwnership: true);
                gamma.AccumulateGrad(dg, takeOwnership: true);
                beta.AccumulateGrad(db, takeOwnership: true);
            });
        }
        else
        {
            var y = Ops.BatchNorm2dEval(x.Value, gamma.Value, beta.Value, runningMean, runningVar, eps);
            return Var.Op(y, [x, gamma, beta], o =>
            {
                var dx = Ops.BatchNorm2dEvalBackward(o.Grad!, x.Value, gamma.Value, runningMean, runningVar, eps, out var dg, out var db);
                x.AccumulateGrad(dx, takeOwnership: true);
                gamma.AccumulateGrad(dg, takeOwnership: true);
                beta.AccumulateGrad(db, takeOwnership: true);
            });
        }
    }
}
