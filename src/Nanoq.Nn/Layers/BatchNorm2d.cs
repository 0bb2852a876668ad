using Nanoq.Autograd;

namespace Nanoq.Nn.Layers;

/// <summary>
/// Batch normalization over (N, H, W) per channel: y = γ (x − μ) / √(σ² + ε) + β.
/// Training mode uses the batch statistics and updates the running ones (momentum 0.1, unbiased variance,
/// as PyTorch); eval mode uses the running statistics. <see cref="Frozen"/> makes training mode behave like
/// eval for the statistics — used, never updated — while γ and β keep learning (the paper's frozen BN).
/// </summary>
public sealed class BatchNorm2d : Layer
{
    public BatchNorm2d(int channels, float eps = 1e-5f, float momentum = 0.1f)
    {
        Channels = channels; Eps = eps; Momentum = momentum;
        Weight = Parameter("weight", Tensor.Ones(channels));
        Bias = Parameter("bias", Tensor.Zeros(channels));
        RunningMean = Buffer("running_mean", Tensor.Zeros(channels));
        RunningVar = Buffer("running_var", Tensor.Ones(channels));
    }

    public int Channels { get; }
    public float Eps { get; }
    public float Momentum { get; }
    public Var Weight { get; }
    public Var Bias { get; }
    public Tensor RunningMean { get; }
    public Tensor RunningVar { get; }

    /// <summary>Use and never update the running statistics, even in training mode.</summary>
    public bool Frozen { get; set; }

    public override Var Forward(Var x) =>
        Fn.BatchNorm2d(x, Weight, Bias, RunningMean, RunningVar, useBatchStats: Training && !Frozen, Momentum, Eps);
}
