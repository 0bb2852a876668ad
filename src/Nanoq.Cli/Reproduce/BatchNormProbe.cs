using Nanoq.Nn;

namespace Nanoq.Cli.Reproduce;

/// <summary>
/// Figure 1's record of one batch-norm layer during fine-tuning without F: each step, channel 0's β and the batch's
/// mean and variance. The batch statistics are read back from the running ones, which batch-statistics folding updates
/// once a step as PyTorch does (FoldedConv: μ ← (1 − m) μ + m μ_B, σ² ← (1 − m) σ² + m σ²_B, unbiased):
/// μ_B = (μ_new − (1 − m) μ_old) / m — exact, and with no hook inside the layer. The first step of a process has no
/// previous value and records nothing.
/// </summary>
public sealed class BatchNormProbe(string layer)
{
    private float? _mean, _var;

    /// <summary>(step, β, μ_B, σ²_B) of channel 0 after this step, or null on the first call.</summary>
    public double[]? Record(Module network, int step)
    {
        var (name, module) = network.NamedModules().FirstOrDefault(m => m.Name == layer || m.Name.EndsWith("." + layer, StringComparison.Ordinal));
        if (module is not Nn.Layers.BatchNorm2d bn)
            throw new InvalidOperationException($"Figure 1: the model has no batch-norm layer '{layer}' (found '{name}').");
        float mean = bn.RunningMean.Span[0], variance = bn.RunningVar.Span[0], m = bn.Momentum;
        double[]? entry = _mean is float m0 && _var is float v0
            ? [step, bn.Bias.Value.Span[0], (mean - (1 - m) * m0) / m, (variance - (1 - m) * v0) / m]
            : null;
        _mean = mean;
        _var = variance;
        return entry;
    }
}
