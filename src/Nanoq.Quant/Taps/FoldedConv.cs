using Nanoq.Autograd;
using Nanoq.Nn.Taps;

namespace Nanoq.Quant.Taps;

/// <summary>
/// A conv unit's computation during quantization-aware training — a trained conv (+ batch norm) (+ ReLU/ReLU6) as one
/// quantized layer, the unit of FQN's fine-tuning:
/// <code>
///     (W_fold, b_fold) = fold(W, b, γ, β, μ, σ²)           eq. 13–14 (F) or eq. 11–12 (batch statistics)
///     y = act(conv(x, Q_w(W_fold)) + b_fold)                Q_w: the unit's weight quantizer, STE
/// </code>
/// then the unit applies its output quantizer. The input is expected quantized already (by the producer's output
/// quantizer). The bias stays float here: the integer runtime stores it as int32 at scale Δ_w·Δ_x, whose rounding is
/// far below one output step (PyTorch's QAT modules leave it float too). W, b, γ, β are the float model's parameters
/// and learn through the fold; running statistics follow <see cref="FoldMode"/>. Without a BN (a detection head's convs)
/// there is nothing to fold.
/// </summary>
public sealed class FoldedConv(BnFoldMode foldMode = BnFoldMode.Frozen, int? freezeBnAtStep = null) : IConvUnitForward
{
    public BnFoldMode FoldMode { get; } = foldMode;

    /// <summary>With <see cref="BnFoldMode.BatchStats"/>: the training step from which the statistics freeze (Krishnamoorthi's last N steps).</summary>
    public int? FreezeBnAtStep { get; } = freezeBnAtStep is < 0 ? throw new ArgumentOutOfRangeException(nameof(freezeBnAtStep)) : freezeBnAtStep;


    /// <summary>
    /// The optimizer steps taken so far — the clock of <see cref="FreezeBnAtStep"/>. Set by the training loop once a
    /// step (<see cref="ModelQuantizer.SetStep"/>), not counted here: a shared layer runs several times a step.
    /// </summary>
    public int Step { get; set; }

    /// <summary>Whether a training forward of <paramref name="unit"/> folds batch statistics (eq. 11–12) rather than the frozen EMA ones.</summary>
    public bool UsesBatchStats(ConvUnit unit) =>
        unit.Bn is not null && unit.Training && FoldMode == BnFoldMode.BatchStats && !(FreezeBnAtStep is int f && Step >= f);

    public Var Forward(ConvUnit unit, Var x)
    {
        Var w;
        Var? b;
        var c = unit.Conv;
        var bn = unit.Bn;
        if (bn is null)
        {
            w = c.Weight;
            b = c.Bias;
        }
        else if (UsesBatchStats(unit))
        {
            // eq. 11–12: the float conv once for the batch's statistics (differentiable), then fold with them.
            // The conv bias is left out of the statistics run: BN with batch statistics cancels it exactly.
            var y0 = Fn.Conv2d(x, c.Weight, null, c.Stride, c.Padding, c.Dilation, c.Groups);
            var (mean, variance) = QFn.BatchMoments(y0);
            UpdateRunningStats(unit, mean.Value, variance.Value, y0.Shape[0] * y0.Shape[2] * y0.Shape[3]);
            w = QFn.FoldBnWeight(c.Weight, bn.Weight, variance, bn.Eps);
            b = QFn.FoldBnBias(null, bn.Weight, bn.Bias, mean, variance, bn.Eps);
        }
        else
        {
            // eq. 13–14: μ_EMA, σ²_EMA are constants of the graph, never updated.
            w = QFn.FoldBnWeight(c.Weight, bn.Weight, new Var(bn.RunningVar), bn.Eps);
            b = QFn.FoldBnBias(c.Bias, bn.Weight, bn.Bias, new Var(bn.RunningMean), new Var(bn.RunningVar), bn.Eps);
        }
        var y = Fn.Conv2d(x, unit.QuantizeWeight(w), b, c.Stride, c.Padding, c.Dilation, c.Groups);
        // XNOR-Net: the sign that follows is the nonlinearity (FakeQuantizer.ReplacesActivation), so the ReLU is left out.
        return unit.OutputQuantizer is Quantizers.FakeQuantizer { ReplacesActivation: true } ? y : ConvUnit.Activate(y, unit.Activation);
    }

    /// <summary>
    /// PyTorch's running-statistics update: μ ← (1 − m) μ + m μ_B, σ² ← (1 − m) σ² + m σ²_B · N/(N − 1) (unbiased),
    /// with μ_B including the conv bias the statistics run left out.
    /// </summary>
    private static void UpdateRunningStats(ConvUnit unit, Tensor batchMean, Tensor batchVar, int count)
    {
        if (count < 2) throw new InvalidOperationException($"{unit.Name}: batch statistics need more than one value per channel, got {count}.");
        var bn = unit.Bn!;
        float m = bn.Momentum;
        double unbias = count / (double)(count - 1);
        var rm = bn.RunningMean.Span; var rv = bn.RunningVar.Span;
        var bm = batchMean.Span; var bv = batchVar.Span;
        var bias = unit.Conv.Bias is null ? default : unit.Conv.Bias.Value.Span;
        for (int ch = 0; ch < rm.Length; ch++)
        {
            float mu = bm[ch] + (bias.IsEmpty ? 0f : bias[ch]);
            rm[ch] = (1f - m) * rm[ch] + m * mu;
            rv[ch] = (float)((1.0 - m) * rv[ch] + m * bv[ch] * unbias);
        }
    }

    /// <summary>
    /// The weights and bias the deployed layer computes with: folded with the running statistics (eq. 13–14), in float,
    /// before weight quantization — what an evaluation-mode forward uses, and what conversion quantizes.
    /// </summary>
    public static (Tensor Weight, Tensor Bias) Folded(ConvUnit unit)
    {
        // Tensor-level (no graph nodes), so a tape that is current cannot release what the caller keeps.
        var conv = unit.Conv;
        var bn = unit.Bn;
        if (bn is null) return (conv.Weight.Value.Clone(), conv.Bias?.Value.Clone() ?? Tensor.Zeros(conv.OutChannels));
        var w = BnFold.Weight(conv.Weight.Value, bn.Weight.Value, bn.RunningVar, bn.Eps);
        var b = BnFold.Bias(conv.Bias?.Value, bn.Weight.Value, bn.Bias.Value, bn.RunningMean, bn.RunningVar, bn.Eps);
        return (w, b);
    }
}
